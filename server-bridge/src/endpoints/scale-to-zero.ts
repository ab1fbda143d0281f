/**
 * Idle endpoints: a ready endpoint without requests shows as `idle`, and after
 * `idleMinutes` scales to zero (its replicas stop, a provider may park them); the next
 * request wakes it.
 */
import type { EndpointState } from '../contract';
import { type EndpointControl, iso, minutes, ms } from './control';
import { stopAll } from './replica-effects';
import type { IEndpointRecord, IReplicaRecord } from './repository/endpoints';

/** Milliseconds since the endpoint was started, woken or last asked. */
export function idleFor(ep: IEndpointRecord, now: number): number {
  const since = Math.max(Date.parse(ep.activeSince), ms(ep.lastRequestAt) ?? 0);
  return now - since;
}

/** No request for `idleMinutes`: time to scale to zero. */
export function idleTooLong(ep: IEndpointRecord, now: number): boolean {
  return idleFor(ep, now) >= ep.idleMinutes * 60_000;
}

/** Scales the endpoint to zero: its replicas stop (parked where the provider can). */
export async function scaleToZero(
  ctl: EndpointControl,
  ep: IEndpointRecord
): Promise<IEndpointRecord> {
  const next: IEndpointRecord = {
    ...ep,
    state: 'scaled-to-zero',
    reason: `No request for ${minutes(ep.idleMinutes)}; the next request wakes it`
  };
  ctl.logger.info({ endpoint: ep.id }, 'scaling to zero');
  await stopAll(ctl, next, 'Scaled to zero', { park: true });
  return next;
}

/** The endpoint as a request wakes it from zero. */
export function woken(ep: IEndpointRecord, now: number): IEndpointRecord {
  return {
    ...ep,
    state: 'pending',
    reason: 'Woken by a request',
    activeSince: iso(now)
  };
}

/** The endpoint exists and is scaled to zero (its parked replica may wake). */
export function sleeps(ctl: EndpointControl, endpointId: string): boolean {
  const ep = ctl.table.get(endpointId);
  return (
    ep !== undefined &&
    ep.desired === 'running' &&
    ep.state === 'scaled-to-zero'
  );
}

/** The endpoint's state from its wish, its replicas and its requests. */
export function stateOf(
  ctl: EndpointControl,
  ep: IEndpointRecord,
  active: readonly IReplicaRecord[],
  now: number
): EndpointState {
  if (ep.desired === 'stopped') {
    return active.length === 0 ? 'stopped' : 'stopping';
  }
  if (ep.state === 'failed' || ep.state === 'scaled-to-zero') {
    return ep.state;
  }
  if (active.some(r => r.state === 'ready')) {
    const idleAfter = (ctl.deps.idleAfterSeconds ?? 60) * 1000;
    return idleFor(ep, now) >= idleAfter ? 'idle' : 'ready';
  }
  if (active.some(r => r.state === 'pending' || r.state === 'starting')) {
    return 'starting';
  }
  return 'pending';
}
