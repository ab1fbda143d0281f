/**
 * Keeping an endpoint served: a replica when there is none, and the walltime handover —
 * a successor starts before the serving replica's time limit, and once it is ready the
 * older ready replicas drain.
 */
import { type EndpointControl, ms } from './control';
import { apply, startReplica } from './replica-effects';
import type { IEndpointRecord } from './repository/endpoints';

/** Starts what is missing: a replica, a handover successor; drains the replaced. */
export async function converge(
  ctl: EndpointControl,
  ep: IEndpointRecord,
  now: number
): Promise<IEndpointRecord> {
  const active = ctl.activeOf(ep.id);
  const inFlight = active.filter(
    r => r.state === 'pending' || r.state === 'starting'
  );
  const ready = active
    .filter(r => r.state === 'ready')
    .sort((a, b) => (ms(b.readyAt) ?? 0) - (ms(a.readyAt) ?? 0));

  // A newer replica is ready: the older ready ones drain.
  for (const old of ready.slice(1)) {
    ep = await apply(
      ctl,
      ep,
      { stored: old, next: old },
      'drain-due',
      {
        reason: `Replaced by ${ready[0]?.id ?? '?'} (${ep.roll === null ? 'walltime handover' : `roll to ${ep.model}`})`,
        successor: ready[0]?.id
      },
      now
    );
  }
  const serving = ready[0];
  if (serving === undefined && inFlight.length === 0) {
    return startReplica(ctl, ep, null, now);
  }
  if (serving !== undefined && inFlight.length === 0) {
    const endsAt = ms(serving.endsAt);
    const limitMs = ep.resources.timeMinutes * 60_000;
    const lead = Math.min(ctl.serving.handoverMinutes * 60_000, limitMs / 2);
    if (endsAt !== null && now >= endsAt - lead) {
      return apply(
        ctl,
        ep,
        { stored: serving, next: serving },
        'time-limit-near',
        {},
        now
      );
    }
  }
  return ep;
}
