/**
 * Rolling an endpoint to another model (a catalog model, or a user's model file): the
 * endpoint keeps its id, URL and keys. The owner's call switches the record to the new
 * model and stops replicas still starting with the old one; the loop then starts a
 * replica with the new model, and once it is ready the handover's rule (a newer ready
 * replica makes the older ready ones drain, `handover.ts`) drains the old ones. The roll
 * ends when they are gone. A new model that never becomes ready rolls back: the old
 * replicas serve on and the endpoint says why.
 */
import { DomainError } from '../domain-error';
import { type EndpointControl, iso } from './control';
import { apply, startReplica } from './replica-effects';
import {
  ACTIVE_REPLICA_STATES,
  type IEndpointRecord,
  type IReplicaRecord
} from './repository/endpoints';
import type { IModelFileRecord } from './repository/user-models';

/** The model an endpoint rolls to: a catalog model (no file) or a user's file. */
export interface IRollTarget {
  model: string;
  modelFile: IModelFileRecord | null;
}

const isActive = (r: IReplicaRecord) => ACTIVE_REPLICA_STATES.includes(r.state);

/** The newest replicas a roll looks at: more than an endpoint has active at once. */
const REPLICAS_SEEN = 50;

/**
 * Switches endpoint `id` to `target` (run under the endpoint's lock). 409 while a roll is
 * in flight. Without a ready replica there is nothing to hand over: the next replica
 * simply starts with the new model. A bridge that does not lead (`stopStarts` false)
 * leaves the replicas still starting with the old model to the leader's loop.
 */
export async function startRoll(
  ctl: EndpointControl,
  id: string,
  target: IRollTarget,
  now: number,
  stopStarts = true
): Promise<IEndpointRecord> {
  const ep = ctl.mustGet(id);
  if (ep.roll !== null) {
    throw new DomainError(
      'conflict',
      `Endpoint ${ep.name} is already rolling from ${ep.roll.from.model} to ${ep.model}; roll again once the old replicas have drained`
    );
  }
  const active = ctl.activeOf(id);
  if (stopStarts) {
    await stopStarting(ctl, ep, active, target.model, now);
  }
  return ctl.save({
    ...ep,
    model: target.model,
    modelFile: target.modelFile,
    failuresInRow: 0,
    roll: active.some(r => r.state === 'ready')
      ? {
          from: { model: ep.model, modelFile: ep.modelFile },
          replaces: ctl.table.replicas(id, REPLICAS_SEEN).map(r => r.id),
          startedAt: iso(now)
        }
      : null
  });
}

const isStarting = (r: IReplicaRecord) =>
  r.state === 'pending' || r.state === 'starting';

async function stopStarting(
  ctl: EndpointControl,
  ep: IEndpointRecord,
  replicas: readonly IReplicaRecord[],
  model: string,
  now: number
): Promise<void> {
  for (const r of replicas.filter(isStarting)) {
    await apply(
      ctl,
      ep,
      { stored: r, next: r },
      'stop-asked',
      { reason: `Replaced by the roll to ${model}` },
      now
    );
  }
}

/**
 * Stops the replicas still starting with another model than the endpoint's: a roll
 * asked on a bridge that does not lead switched the record only.
 */
export async function stopStaleStarts(
  ctl: EndpointControl,
  ep: IEndpointRecord,
  now: number
): Promise<IEndpointRecord> {
  const stale = ctl
    .activeOf(ep.id)
    .filter(r => isStarting(r) && (r.model ?? ep.model) !== ep.model);
  await stopStarting(ctl, ep, stale, ep.model, now);
  return ep;
}

/**
 * One step of a roll in flight: starts the replica with the new model, ends the roll once
 * the old replicas are gone, or rolls back when the new model's replicas all ended
 * without one becoming ready while an old one still serves.
 */
export async function advanceRoll(
  ctl: EndpointControl,
  ep: IEndpointRecord,
  now: number
): Promise<IEndpointRecord> {
  const roll = ep.roll;
  if (roll === null) {
    return ep;
  }
  const replicas = ctl.table.replicas(ep.id, REPLICAS_SEEN);
  const old = replicas.filter(r => roll.replaces.includes(r.id) && isActive(r));
  if (old.length === 0) {
    ctl.logger.info({ endpoint: ep.id, model: ep.model }, 'roll finished');
    return { ...ep, roll: null };
  }
  const fresh = replicas.filter(r => !roll.replaces.includes(r.id));
  if (fresh.length === 0) {
    const serving = old.find(r => r.state === 'ready');
    const serves =
      ep.desired === 'running' &&
      ep.state !== 'failed' &&
      ep.state !== 'scaled-to-zero';
    return serving === undefined || !serves
      ? ep
      : startReplica(ctl, ep, serving.id, now);
  }
  if (fresh.some(r => isActive(r) || r.readyAt !== null)) {
    return ep;
  }
  const last = fresh[fresh.length - 1];
  const why = last?.reason ?? 'its replica ended';
  ctl.logger.warn(
    { endpoint: ep.id, model: ep.model, back: roll.from.model, reason: why },
    'roll failed; the previous model serves on'
  );
  return {
    ...ep,
    model: roll.from.model,
    modelFile: roll.from.modelFile,
    roll: null,
    failuresInRow: 0,
    reason: `Could not serve ${ep.model} (${why}); ${roll.from.model} serves on`
  };
}
