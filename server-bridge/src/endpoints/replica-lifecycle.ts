/**
 * The lifecycle of one replica as a table of transitions: (state, event) → next state +
 * the effects the controller performs. `transition` is pure; the controller turns what it
 * observes (provider status, health checks, the gateway's reports, the loop's decisions)
 * into events, asks the table, and performs the effects (`replica-effects.ts`).
 *
 *   pending → starting → ready → draining → stopped
 *      └──────────┴────────┴─────────┴────→ failed | stopped (fallback, time limit)
 *
 * Guards (is the time limit near, can a fallback take it, how many checks failed) are
 * decided by the controller and named in the event: `no-capacity` has no fallback,
 * `no-capacity-fallback` has one.
 */
import type { ReplicaState } from '../contract';

/** What happens to a replica (or what the loop decided about it). */
export type ReplicaEvent =
  /** The provider gave no handle for it. */
  | 'no-handle'
  /** The provider still queues or spawns it. */
  | 'provider-pending'
  /** Still queued after `fallbackAfterMinutes`, and a fallback provider can take it. */
  | 'queued-too-long'
  /** The provider runs it (host, port, time limit). */
  | 'provider-running'
  /** The provider lost it or reports it failed. */
  | 'provider-gone'
  /** The provider has no room for it (quota, no free GPU) and there is no fallback. */
  | 'no-capacity'
  /** The provider has no room for it; the endpoint's fallback provider can take it. */
  | 'no-capacity-fallback'
  /** It ended at (or within 30 s of) its time limit. */
  | 'time-limit-reached'
  /** Its health check answered 2xx. */
  | 'health-ok'
  /** Its health check failed, fewer times than the bound. */
  | 'health-failed'
  /**
   * It is given up: not healthy within `startMinutes`, `healthFailures` checks failed in
   * a row, or a request failed and the next check too.
   */
  | 'unhealthy'
  /** The gateway's request to it failed (or the bridge restarted): check before routing. */
  | 'request-failed'
  /** The provider refused to start it. */
  | 'start-failed'
  /** Its model is no longer in the catalog. */
  | 'model-missing'
  /** Its time limit is within the handover lead: a successor starts. */
  | 'time-limit-near'
  /** A newer replica is ready: this one drains. */
  | 'drain-due'
  /** Drained (a quiet period after the handover) or at its time limit while draining. */
  | 'drained'
  /** The endpoint stops, scales to zero or is deleted. */
  | 'stop-asked'
  /** The provider no longer had it when the bridge started. */
  | 'lost-at-restart';

/** What the controller does for a transition, in this order. */
export type ReplicaEffect =
  /** Store the provider's detail (queue reason) as the replica's reason. */
  | 'record-detail'
  /** Store its address and time limit, and the transition's state. */
  | 'record-running'
  /** Clear the replica's reason (it left `pending`). */
  | 'clear-reason'
  /** Mark it ready: routed to, failures in a row reset. */
  | 'mark-ready'
  /** Its check passed: failed checks and the gateway's suspicion forgotten. */
  | 'health-passed'
  /** Store the replica if it changed. */
  | 'save'
  /** Mark it failed, stop it, count the failure (a successor replaces it, bounded). */
  | 'fail'
  /** Mark it failed, stop it; the endpoint fails (retrying at once cannot help). */
  | 'fail-no-capacity'
  /** Mark it failed without starting it; the endpoint fails. */
  | 'fail-endpoint'
  /** Stop it (not a failure) and start a replica on the endpoint's fallback provider. */
  | 'fall-back'
  /** Store it as stopped (its reason kept). */
  | 'mark-stopped'
  /** Store it as stopped because it reached its time limit. */
  | 'mark-stopped-at-limit'
  /** Store it as stopped because it was gone while the bridge was not running. */
  | 'mark-lost'
  /** Ask the provider to stop it; stored as stopped once it did. */
  | 'stop'
  /** Store it as draining: no new requests. */
  | 'drain'
  /** Start the replica that takes over from it. */
  | 'start-successor'
  /** Route nothing to it until a health check passes. */
  | 'suspect';

export interface IReplicaTransition {
  to: ReplicaState;
  effects: readonly ReplicaEffect[];
}

type Row = Partial<Record<ReplicaEvent, IReplicaTransition>>;

const to = (
  state: ReplicaState,
  ...effects: ReplicaEffect[]
): IReplicaTransition => ({ to: state, effects });

/** Events every active state answers the same way (its own state where it stays). */
function common(state: ReplicaState): Row {
  return {
    'no-handle': to('failed', 'fail'),
    'provider-pending': to(state, 'record-detail'),
    'queued-too-long': to('stopped', 'fall-back'),
    'provider-running': to(state, 'record-running'),
    'provider-gone': to('failed', 'fail'),
    'no-capacity': to('failed', 'fail-no-capacity'),
    'no-capacity-fallback': to('stopped', 'fall-back'),
    'time-limit-reached': to('stopped', 'mark-stopped-at-limit'),
    'stop-asked': to('stopped', 'stop'),
    'lost-at-restart': to('stopped', 'mark-lost')
  };
}

/** The transitions, by state and event; a missing cell is an event the state ignores. */
export const REPLICA_TRANSITIONS: Readonly<
  Record<ReplicaState, Readonly<Row>>
> = {
  pending: {
    ...common('pending'),
    'provider-running': to('starting', 'record-running', 'clear-reason'),
    'start-failed': to('failed', 'fail'),
    'model-missing': to('failed', 'fail-endpoint')
  },
  starting: {
    ...common('starting'),
    'health-ok': to('ready', 'mark-ready'),
    'health-failed': to('starting', 'save'),
    unhealthy: to('failed', 'fail')
  },
  ready: {
    ...common('ready'),
    'health-ok': to('ready', 'health-passed', 'save'),
    'health-failed': to('ready', 'save'),
    unhealthy: to('failed', 'fail'),
    'request-failed': to('ready', 'suspect'),
    'time-limit-near': to('ready', 'start-successor'),
    'drain-due': to('draining', 'drain')
  },
  draining: {
    ...common('draining'),
    // A draining replica that ends was on its way out: stopped, not failed or moved.
    'provider-gone': to('stopped', 'mark-stopped'),
    'no-capacity': to('stopped', 'mark-stopped'),
    'no-capacity-fallback': to('stopped', 'mark-stopped'),
    'time-limit-reached': to('stopped', 'mark-stopped'),
    drained: to('stopped', 'stop')
  },
  stopped: {},
  failed: {}
};

/**
 * The next state of a replica in `state` on `event`, and the effects to perform; null
 * when the state ignores the event (the replica stays as it is, nothing is done).
 */
export function transition(
  state: ReplicaState,
  event: ReplicaEvent
): IReplicaTransition | null {
  return REPLICA_TRANSITIONS[state][event] ?? null;
}
