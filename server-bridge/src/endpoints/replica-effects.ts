/**
 * The effects of the replica lifecycle (`replica-lifecycle.ts`), performed on the
 * provider and the store: start a replica (on the endpoint's provider or its fallback),
 * mark it ready, fail it (bounded restarts), stop it, drain it.
 */
import type { ServingProviderName } from '../contract';
import {
  type EndpointControl,
  iso,
  newReplicaId,
  newUpstreamKey
} from './control';
import type { IReplicaHandle, IStopOptions } from './ports';
import { renderArgv } from './recipe';
import { replicaFailed, stopQuietly, stopReplica } from './replica-stops';
import {
  type IReplicaTransition,
  type ReplicaEvent,
  transition
} from './replica-lifecycle';
import type { IEndpointRecord, IReplicaRecord } from './repository/endpoints';

/** A replica during one step: as stored, and as changed so far. */
export interface IReplicaInHand {
  stored: IReplicaRecord;
  next: IReplicaRecord;
}

/** What an event carries for its effects. */
export interface IEventDetail {
  /** The sentence of a failure, a fallback, a stop, a drain; the provider's detail. */
  reason?: string | null;
  /** Where a running replica answers, and until when it runs (`provider-running`). */
  running?: { address: string; endsAt: string | null };
  /** The replica that takes over (`drain-due`). */
  successor?: string;
  stopOptions?: IStopOptions;
}

type Effect = IReplicaTransition['effects'][number];

/**
 * Asks the table what `event` does to the replica in hand and performs the effects;
 * returns the endpoint, updated (failure count, reasons). Nothing happens when the
 * replica's state ignores the event.
 */
export async function apply(
  ctl: EndpointControl,
  ep: IEndpointRecord,
  hand: IReplicaInHand,
  event: ReplicaEvent,
  detail: IEventDetail,
  now: number
): Promise<IEndpointRecord> {
  const step = transition(hand.next.state, event);
  if (step === null) {
    return ep;
  }
  for (const effect of step.effects) {
    if (!(await onReplica(ctl, ep.id, hand, step, effect, detail, now))) {
      ep = await onEndpoint(ctl, ep, hand, step, effect, detail, now);
    }
  }
  return ep;
}

/**
 * `apply` for an event whose effects touch the replica alone (reconciliation, the
 * gateway's report): no endpoint record is needed.
 */
export async function applyToReplica(
  ctl: EndpointControl,
  endpointId: string,
  hand: IReplicaInHand,
  event: ReplicaEvent,
  detail: IEventDetail,
  now: number
): Promise<void> {
  const step = transition(hand.next.state, event);
  for (const effect of step?.effects ?? []) {
    if (
      step === null ||
      !(await onReplica(ctl, endpointId, hand, step, effect, detail, now))
    ) {
      throw new Error(`${event}: ${effect} needs the endpoint`);
    }
  }
}

/** Performs an effect on the replica alone; false for one that changes the endpoint. */
async function onReplica(
  ctl: EndpointControl,
  endpointId: string,
  hand: IReplicaInHand,
  step: IReplicaTransition,
  effect: Effect,
  detail: IEventDetail,
  now: number
): Promise<boolean> {
  const rt = ctl.runtime(endpointId);
  const r = hand.next;
  const reason = detail.reason ?? '';
  switch (effect) {
    case 'record-detail': {
      const text = detail.reason ?? null;
      if (hand.stored.reason !== text) {
        ctl.putReplica({ ...hand.stored, reason: text });
      }
      return true;
    }
    case 'record-running': {
      const running = detail.running;
      hand.next = {
        ...r,
        address: running?.address ?? r.address,
        endsAt: running?.endsAt ?? r.endsAt,
        state: step.to
      };
      return true;
    }
    case 'clear-reason':
      hand.next = { ...r, reason: null };
      return true;
    case 'health-passed':
      rt.healthFailures.set(r.id, 0);
      rt.suspect.delete(r.id);
      return true;
    case 'save':
      ctl.putReplicaIfChanged(hand.stored, r);
      return true;
    case 'mark-stopped':
      ctl.putReplica({ ...r, state: step.to, stoppedAt: iso(now) });
      return true;
    case 'mark-stopped-at-limit':
      ctl.putReplica({
        ...r,
        state: step.to,
        reason: 'Reached its time limit',
        stoppedAt: iso(now)
      });
      return true;
    case 'mark-lost':
      ctl.putReplica({
        ...r,
        state: step.to,
        reason: 'Gone while the bridge was not running',
        stoppedAt: iso(now)
      });
      return true;
    case 'stop':
      await stopReplica(ctl, r, reason, detail.stopOptions);
      return true;
    case 'drain':
      ctl.putReplica({
        ...r,
        state: step.to,
        drainingSince: iso(now),
        reason
      });
      ctl.logger.info(
        { endpoint: endpointId, replica: r.id, successor: detail.successor },
        'handover: draining the old replica'
      );
      return true;
    case 'suspect':
      ctl.suspect(endpointId, r.id, reason);
      return true;
    default:
      return false;
  }
}

/** Performs an effect that changes the endpoint too (failures, restarts, successors). */
async function onEndpoint(
  ctl: EndpointControl,
  ep: IEndpointRecord,
  hand: IReplicaInHand,
  step: IReplicaTransition,
  effect: Effect,
  detail: IEventDetail,
  now: number
): Promise<IEndpointRecord> {
  const rt = ctl.runtime(ep.id);
  const r = hand.next;
  const reason = detail.reason ?? '';
  switch (effect) {
    case 'mark-ready':
      hand.next = { ...r, state: step.to, readyAt: iso(now), reason: null };
      rt.healthFailures.set(r.id, 0);
      rt.lastHealthAt.set(r.id, now);
      rt.suspect.delete(r.id);
      ctl.putReplica(hand.next);
      ctl.logger.info(
        { endpoint: ep.id, replica: r.id, address: r.address },
        'replica ready'
      );
      return {
        ...ep,
        failuresInRow: 0,
        reason: ep.restarts > 0 ? ep.reason : null,
        fallbackReason: r.provider === ep.provider ? null : ep.fallbackReason
      };
    case 'fail':
      return replicaFailed(ctl, ep, r, reason);
    case 'fail-no-capacity':
      return replicaFailed(ctl, ep, r, reason, true);
    case 'fail-endpoint':
      ctl.putReplica({ ...r, state: step.to, reason });
      return {
        ...ep,
        state: 'failed',
        reason: reason.charAt(0).toUpperCase() + reason.slice(1)
      };
    case 'fall-back':
      return fallBack(ctl, ep, r, reason, now);
    case 'start-successor':
      ctl.logger.info(
        { endpoint: ep.id, replica: r.id, endsAt: r.endsAt },
        'handover: starting the next replica'
      );
      return startReplica(ctl, ep, r.id, now);
    default:
      throw new Error(`unknown effect ${effect}`);
  }
}

/** Starts a replica of `ep` (on `provider`); `handoverOf` names the one it replaces. */
export function startReplica(
  ctl: EndpointControl,
  ep: IEndpointRecord,
  handoverOf: string | null,
  now: number,
  provider: ServingProviderName = ep.provider
): Promise<IEndpointRecord> {
  const rec: IReplicaRecord = {
    id: newReplicaId(),
    endpointId: ep.id,
    provider,
    handle: null,
    state: 'pending',
    address: null,
    model: ep.model,
    reason: null,
    handoverOf,
    createdAt: iso(now),
    readyAt: null,
    endsAt: null,
    drainingSince: null,
    stoppedAt: null,
    upstreamKey: newUpstreamKey()
  };
  if (typeof ctl.servedModel(ep) !== 'string') {
    ctl.putReplica(rec);
  }
  return launchReplica(ctl, ep, rec, now);
}

/** MiB, rounded down, of a byte count. */
const mib = (bytes: number): number => Math.floor(bytes / (1024 * 1024));

/** The waiting reason of a replica whose model file is being copied. */
export function copyingReason(c: { bytes: number; of: number | null }): string {
  return c.of === null
    ? `copying model (${mib(c.bytes)} MiB)`
    : `copying model (${mib(c.bytes)} MiB of ${mib(c.of)})`;
}

/**
 * Has the provider start the stored pending replica `rec`, once its model is in place: a
 * model file still being copied leaves it pending (the reason says how far the copy has
 * come) for a later step to launch, so no step waits for a copy.
 */
export async function launchReplica(
  ctl: EndpointControl,
  ep: IEndpointRecord,
  rec: IReplicaRecord,
  now: number
): Promise<IEndpointRecord> {
  const { provider, upstreamKey } = rec;
  const served = ctl.servedModel(ep);
  const hand = { stored: rec, next: rec };
  if (typeof served === 'string') {
    return apply(ctl, ep, hand, 'model-missing', { reason: served }, now);
  }
  const { recipe } = served;
  const copies = ctl.runtime(ep.id).modelCopies;
  try {
    let modelPath = served.path;
    if (modelPath === null) {
      const placed = await ctl.placeModel(ep, provider, rec.id);
      if ('copying' in placed) {
        copies.add(rec.id);
        ctl.putReplicaIfChanged(rec, {
          ...rec,
          reason: copyingReason(placed.copying)
        });
        return ep;
      }
      modelPath = placed.path;
    }
    copies.delete(rec.id);
    const argv = renderArgv(recipe, {
      model: modelPath,
      threads: ep.resources.cpus
    });
    const handle = await ctl.provider(provider).start({
      endpointId: ep.id,
      replicaId: rec.id,
      owner: ep.owner,
      modelPath,
      argv,
      upstreamKey: upstreamKey ?? '',
      keyEnv: recipe.keyEnv,
      resources: ep.resources,
      env: ep.tierEnv
    });
    ctl.putReplica({
      ...rec,
      handle,
      reason: null,
      upstreamKey: wokenKey(ctl, ep.id, handle) ?? upstreamKey
    });
    ctl.logger.info(
      {
        endpoint: ep.id,
        replica: rec.id,
        provider,
        handoverOf: rec.handoverOf
      },
      'replica started'
    );
    return ep;
  } catch (e) {
    copies.delete(rec.id);
    const message = (e as Error).message;
    if ((e as { noCapacity?: unknown }).noCapacity === true) {
      return canFallBack(ctl, ep, provider)
        ? apply(ctl, ep, hand, 'no-capacity-fallback', { reason: message }, now)
        : apply(ctl, ep, hand, 'no-capacity', { reason: message }, now);
    }
    return apply(
      ctl,
      ep,
      hand,
      'start-failed',
      { reason: `could not start: ${message}` },
      now
    );
  }
}

/**
 * A provider that woke a parked replica instead of starting a new one names it in
 * `ref.wokenFrom`: the woken server still expects that replica's key.
 */
function wokenKey(
  ctl: EndpointControl,
  endpointId: string,
  handle: IReplicaHandle
): string | null {
  const from = handle.ref.wokenFrom;
  if (typeof from !== 'string') {
    return null;
  }
  const parked = ctl.table.replicas(endpointId, 100).find(x => x.id === from);
  if (parked === undefined) {
    return null;
  }
  const ep = ctl.table.get(endpointId);
  return parked.upstreamKey ?? ep?.upstreamKey ?? null;
}

/** The endpoint names a configured fallback other than `provider`. */
export function canFallBack(
  ctl: EndpointControl,
  ep: IEndpointRecord,
  provider: string
): boolean {
  return (
    ep.fallback !== null &&
    ep.fallback !== provider &&
    ctl.deps.providers.has(ep.fallback)
  );
}

/**
 * The primary cannot place replica `r`: it stops (not counted as a failure) and a
 * replica starts on the endpoint's fallback; the endpoint says why.
 */
async function fallBack(
  ctl: EndpointControl,
  ep: IEndpointRecord,
  r: IReplicaRecord,
  why: string,
  now: number
): Promise<IEndpointRecord> {
  const fallback = ep.fallback ?? ep.provider;
  // The cause alone: the panel says "Running on <fallback> because <reason>".
  const reason = why.charAt(0).toUpperCase() + why.slice(1);
  await stopQuietly(ctl, r, 'cannot stop a replica moved to the fallback');
  ctl.putReplica({
    ...r,
    state: 'stopped',
    reason: `Moved to ${fallback}: ${why}`,
    stoppedAt: iso(now)
  });
  ctl.unroute(ep.id, r.id);
  ctl.logger.info(
    { endpoint: ep.id, replica: r.id, from: r.provider, to: fallback },
    'starting the replica on the fallback provider'
  );
  return startReplica(
    ctl,
    { ...ep, fallbackReason: reason },
    r.handoverOf,
    now,
    fallback
  );
}

/** Stops every active replica of the endpoint (`stop-asked`); routes nothing. */
export async function stopAll(
  ctl: EndpointControl,
  ep: IEndpointRecord,
  reason: string,
  stopOptions: IStopOptions = {}
): Promise<void> {
  ctl.runtime(ep.id).routes = [];
  const now = ctl.clock.now();
  await Promise.all(
    ctl
      .activeOf(ep.id)
      .map(r =>
        apply(
          ctl,
          ep,
          { stored: r, next: r },
          'stop-asked',
          { reason, stopOptions },
          now
        )
      )
  );
}
