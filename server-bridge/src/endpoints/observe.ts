/**
 * Observing one active replica: its provider's status and its health checks, turned
 * into the events of the replica lifecycle (`replica-lifecycle.ts`) whose effects the
 * controller performs (`replica-effects.ts`).
 */
import {
  addressOf,
  baseUrlOf,
  type EndpointControl,
  keyOf,
  minutes,
  ms
} from './control';
import type { ReplicaStatus } from './ports';
import {
  apply,
  canFallBack,
  type IEventDetail,
  type IReplicaInHand,
  launchReplica
} from './replica-effects';
import type { ReplicaEvent } from './replica-lifecycle';
import type { IEndpointRecord, IReplicaRecord } from './repository/endpoints';

/** Provider status + health of one active replica; returns the endpoint, updated. */
export async function observe(
  ctl: EndpointControl,
  ep: IEndpointRecord,
  r: IReplicaRecord,
  now: number
): Promise<IEndpointRecord> {
  const hand: IReplicaInHand = { stored: r, next: r };
  const on = (event: ReplicaEvent, detail: IEventDetail = {}) =>
    apply(ctl, ep, hand, event, detail, now);
  if (r.handle === null) {
    // A replica whose model file is being copied starts once the copy is done.
    return r.state === 'pending' && ctl.runtime(ep.id).modelCopies.has(r.id)
      ? launchReplica(ctl, ep, r, now)
      : on('no-handle', { reason: 'the provider gave no handle' });
  }
  let status: ReplicaStatus;
  try {
    status = await ctl.provider(r.provider).status(r.handle);
  } catch (e) {
    ctl.logger.warn(
      { endpoint: ep.id, replica: r.id, err: e },
      'cannot read the replica status'
    );
    return ep;
  }
  if (status.state === 'gone' || status.state === 'failed') {
    const endsAt = ms(r.endsAt);
    if (endsAt !== null && now >= endsAt - 30_000) {
      return on('time-limit-reached');
    }
    const why =
      status.state === 'failed'
        ? status.reason
        : (status.reason ?? 'the replica is gone');
    if (status.state === 'failed' && status.noCapacity === true) {
      return canFallBack(ctl, ep, r.provider)
        ? on('no-capacity-fallback', { reason: why })
        : on('no-capacity', { reason: why });
    }
    return on('provider-gone', { reason: why });
  }
  if (status.state === 'pending') {
    const wait = ctl.serving.fallbackAfterMinutes;
    if (
      canFallBack(ctl, ep, r.provider) &&
      now - Date.parse(r.createdAt) >= wait * 60_000
    ) {
      return on('queued-too-long', {
        reason: `the ${r.provider} replica was still waiting after ${minutes(wait)}${status.detail === undefined ? '' : ` (${status.detail})`}`
      });
    }
    return on('provider-pending', { reason: status.detail ?? null });
  }
  const address = addressOf(status.host, status.port);
  ep = await on('provider-running', {
    running: {
      address,
      endsAt: status.endsAt === null ? null : status.endsAt.toISOString()
    }
  });
  const rt = ctl.runtime(ep.id);
  if (!rt.runningSince.has(r.id)) {
    rt.runningSince.set(r.id, now);
  }
  const url = `${baseUrlOf(address)}${ctl.recipeOf(ep)?.health ?? '/health'}`;
  const next = hand.next;
  if (next.state === 'starting') {
    const h = await ctl.health(url, keyOf(ep, r));
    if (h.ok) {
      return on('health-ok');
    }
    const since = rt.runningSince.get(r.id) ?? now;
    if (now - since >= ctl.serving.startMinutes * 60_000) {
      return on('unhealthy', {
        reason: `not healthy within ${ctl.serving.startMinutes} minutes of starting (${h.detail})`
      });
    }
    return on('health-failed');
  }
  if (next.state === 'ready') {
    const suspect = rt.suspect.get(r.id);
    const last = rt.lastHealthAt.get(r.id) ?? 0;
    if (
      suspect === undefined &&
      now - last < ctl.serving.healthSeconds * 1000
    ) {
      ctl.putReplicaIfChanged(r, next);
      return ep;
    }
    const h = await ctl.health(url, keyOf(ep, r));
    rt.lastHealthAt.set(r.id, now);
    if (h.ok) {
      return on('health-ok');
    }
    const failures = (rt.healthFailures.get(r.id) ?? 0) + 1;
    rt.healthFailures.set(r.id, failures);
    if (suspect !== undefined || failures >= ctl.serving.healthFailures) {
      const ended = await endedReason(ctl, r);
      return on('unhealthy', {
        reason:
          ended ??
          (suspect !== undefined
            ? `requests failed (${suspect}) and the health check failed (${h.detail})`
            : `${failures} health checks failed in a row (${h.detail})`)
      });
    }
    return on('health-failed');
  }
  // draining: stop once drained (a quiet period) or at its time limit
  const drainSince = ms(next.drainingSince) ?? now;
  const endsAt = ms(next.endsAt);
  if (
    now - drainSince >= (ctl.deps.drainSeconds ?? 60) * 1000 ||
    (endsAt !== null && now >= endsAt)
  ) {
    return on('drained', { reason: 'Drained after a walltime handover' });
  }
  ctl.putReplicaIfChanged(r, next);
  return ep;
}

/** The provider's word on how a replica that stopped answering ended, if it knows. */
async function endedReason(
  ctl: EndpointControl,
  r: IReplicaRecord
): Promise<string | null> {
  const provider = ctl.provider(r.provider);
  if (r.handle === null || provider.endedReason === undefined) {
    return null;
  }
  return provider.endedReason(r.handle).catch(() => null);
}
