/**
 * The control plane of serving endpoints: one state machine per endpoint, driven by a
 * single timer loop (`tick`). Each step observes the endpoint's replicas (provider
 * status + health checks), replaces failed ones (bounded), hands over before a
 * replica's time limit, drains the old one, scales to zero when idle, and answers the
 * gateway's `upstream()` (waking and holding requests while no replica is ready).
 *
 * An endpoint may name a fallback provider: a replica its provider cannot place (no
 * capacity or quota, or still queued after `fallbackAfterMinutes`) starts there instead.
 * Every `reconcileSeconds` the providers' replicas are compared with the store, so none
 * runs without a live replica record.
 *
 * Endpoint states: pending → starting → ready ↔ idle → scaled-to-zero; failed; stopped.
 * Replica states: pending → starting → ready → draining → stopped; failed — the table
 * of transitions is `replica-lifecycle.ts`, its effects `replica-effects.ts`.
 *
 * The concerns live in their own modules: `observe.ts` (provider status and health
 * checks), `handover.ts` (a replica when none, the walltime handover), `scale-to-zero.ts`
 * (idle, scale to zero, wake), `reconcile.ts`, `user-slots.ts`; `control.ts` holds what
 * they share. This class is the loop, the gateway's router and the owner's actions.
 */
import type { ServingProviderInfo } from '../contract';
import { DomainError } from '../domain-error';
import {
  baseUrlOf,
  EndpointControl,
  type IEndpointControllerDeps,
  type INewEndpoint,
  iso,
  type IWaiter,
  keyOf,
  ms
} from './control';
import { converge } from './handover';
import { advanceRoll, type IRollTarget, startRoll } from './roll';
import { observe } from './observe';
import { probeWhileHeld } from './held-probe';
import type { IEndpointRouter, IServedModel, IUpstream } from './ports';
import { stopAll } from './replica-effects';
import { providerDetails, reconcile } from './reconcile';
import { idleTooLong, scaleToZero, stateOf, woken } from './scale-to-zero';
import {
  ACTIVE_REPLICA_STATES,
  type IEndpointRecord
} from './repository/endpoints';
import { checkUserSlots } from './user-slots';

export {
  type IClock,
  type IEndpointControllerDeps,
  newReplicaId,
  newUpstreamKey,
  systemClock
} from './control';
export { type HealthCheck, httpHealthCheck } from './health';

export class EndpointController implements IEndpointRouter {
  private readonly ctl: EndpointControl;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  /** The loop runs (between `start` and `stop`). */
  private looping = false;
  /** `stop` was called: no more steps. */
  private closed = false;
  private lastReconcileAt = 0;

  constructor(private readonly deps: IEndpointControllerDeps) {
    this.ctl = new EndpointControl(deps);
  }

  private get clock() {
    return this.ctl.clock;
  }

  private get serving() {
    return this.ctl.serving;
  }

  private get table() {
    return this.ctl.table;
  }

  private runtime(id: string) {
    return this.ctl.runtime(id);
  }

  // ---------------------------------------------------------------- loop

  /** Reconciles the store with the providers, then runs the loop. */
  async start(): Promise<void> {
    this.looping = true;
    this.closed = false;
    await this.reconcile();
    this.schedule();
  }

  /** Stops the loop (replicas keep running; the next start reconciles them). */
  async stop(): Promise<void> {
    this.looping = false;
    this.closed = true;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    await this.ticking;
    for (const rt of this.ctl.runtimes.values()) {
      await rt.stepping;
      for (const w of rt.waiters) {
        w.reject(
          new DomainError('upstream_unavailable', 'The bridge is shutting down')
        );
      }
      rt.waiters.clear();
    }
  }

  private schedule(): void {
    if (!this.looping) {
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.tick().finally(() => this.schedule());
    }, this.deps.tickMs ?? 1000);
    this.timer.unref();
  }

  /** One step of every endpoint that may change (tests call this with a fake clock). */
  async tick(): Promise<void> {
    const run = async () => {
      if (
        this.clock.now() - this.lastReconcileAt >=
        this.serving.reconcileSeconds * 1000
      ) {
        await this.reconcile(false);
      }
      const eps = this.table
        .list()
        .filter(
          ep =>
            ep.desired === 'running' ||
            this.table
              .replicas(ep.id)
              .some(r => ACTIVE_REPLICA_STATES.includes(r.state)) ||
            this.runtime(ep.id).waiters.size > 0
        );
      await Promise.all(eps.map(ep => this.stepSoon(ep.id)));
    };
    this.ticking = run();
    try {
      await this.ticking;
    } finally {
      this.ticking = null;
    }
  }

  /** Runs a step of one endpoint; coalesces with one in progress. */
  private stepSoon(id: string): Promise<void> {
    const rt = this.runtime(id);
    if (rt.stepping !== null) {
      rt.again = true;
      return rt.stepping;
    }
    rt.stepping = (async () => {
      try {
        do {
          rt.again = false;
          await this.step(id);
        } while (rt.again && !this.closed);
      } catch (e) {
        this.deps.logger.warn({ endpoint: id, err: e }, 'endpoint step failed');
      } finally {
        rt.stepping = null;
      }
    })();
    return rt.stepping;
  }

  /** Serialises changes of one endpoint: steps and the owner's actions. */
  private async exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const rt = this.runtime(id);
    while (rt.stepping !== null) {
      await rt.stepping;
    }
    let release!: () => void;
    rt.stepping = new Promise<void>(r => (release = r));
    try {
      return await fn();
    } finally {
      rt.stepping = null;
      release();
      if (rt.again) {
        void this.stepSoon(id);
      }
    }
  }

  // ---------------------------------------------------------------- router (gateway)

  async upstream(endpointId: string, signal: AbortSignal): Promise<IUpstream> {
    const ep = this.ctl.cached(endpointId);
    if (ep === undefined) {
      throw new DomainError('not_found', `No endpoint ${endpointId}`);
    }
    this.touched(endpointId);
    this.ctl.refuseUnavailable(ep);
    const rt = this.runtime(endpointId);
    const route = rt.routes[0];
    if (route !== undefined) {
      return route;
    }
    if (signal.aborted) {
      throw new DomainError('upstream_unavailable', 'The request was aborted');
    }
    if (ep.state === 'scaled-to-zero') {
      await this.wake(endpointId);
    }
    return new Promise<IUpstream>((resolve, reject) => {
      const onAbort = () => {
        rt.waiters.delete(waiter);
        reject(
          new DomainError('upstream_unavailable', 'The request was aborted')
        );
      };
      const waiter: IWaiter = {
        deadline: this.clock.now() + this.serving.holdSeconds * 1000,
        resolve: u => {
          signal.removeEventListener('abort', onAbort);
          resolve(u);
        },
        reject: e => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      rt.waiters.add(waiter);
      void this.stepSoon(endpointId);
      this.probeWhileHeld(endpointId);
    });
  }

  private probeWhileHeld(id: string): void {
    if (this.looping) {
      probeWhileHeld(
        this.runtime(id),
        () => this.stepSoon(id),
        () => this.closed
      );
    }
  }

  touched(endpointId: string): void {
    this.runtime(endpointId).lastTouched = this.clock.now();
  }

  upstreamFailed(endpointId: string, replicaId: string, reason: string): void {
    // The `request-failed` transition of a ready replica (routes hold ready ones
    // only), without reading the store on the gateway's path.
    this.ctl.suspect(endpointId, replicaId, reason);
    this.deps.logger.info(
      { endpoint: endpointId, replica: replicaId, reason },
      'upstream call failed; checking the replica'
    );
    void this.stepSoon(endpointId);
  }

  modelOf(endpointId: string): IServedModel | null {
    const ep = this.ctl.cached(endpointId);
    if (ep === undefined) {
      return null;
    }
    return {
      name: ep.model,
      accepts: [
        ep.model,
        ep.name,
        ...(ep.roll === null ? [] : [ep.roll.from.model])
      ]
    };
  }

  // ---------------------------------------------------------------- owner actions

  /** A new endpoint record (state pending); the loop starts its first replica. */
  create(ep: INewEndpoint): IEndpointRecord {
    checkUserSlots(this.ctl, { ...ep, id: ep.id });
    const now = iso(this.clock.now());
    const rec: IEndpointRecord = {
      ...ep,
      tiers: ep.tiers ?? [],
      tierEnv: ep.tierEnv ?? {},
      modelFile: ep.modelFile ?? null,
      roll: null,
      fallback: ep.fallback ?? null,
      fallbackReason: null,
      desired: 'running',
      state: 'pending',
      reason: null,
      restarts: 0,
      failuresInRow: 0,
      upstreamKey: null,
      createdAt: now,
      updatedAt: now,
      lastRequestAt: null,
      activeSince: now
    };
    this.table.insert(rec);
    this.runtime(rec.id).record = rec;
    this.ctl.announce(rec);
    void this.stepSoon(rec.id);
    return rec;
  }

  /** Serve again (after stop, failure or scale to zero); restarts are counted anew. */
  async startEndpoint(id: string): Promise<void> {
    await this.exclusive(id, async () => {
      const ep = this.ctl.mustGet(id);
      checkUserSlots(this.ctl, ep);
      const now = this.clock.now();
      this.ctl.save({
        ...ep,
        desired: 'running',
        state: 'pending',
        reason: null,
        restarts: 0,
        failuresInRow: 0,
        fallbackReason: null,
        activeSince: iso(now)
      });
    });
    await this.stepSoon(id);
  }

  /** Serves `target` instead, at the same URL with the same keys (see `roll.ts`). */
  async rollModel(id: string, target: IRollTarget): Promise<void> {
    await this.exclusive(id, () =>
      startRoll(this.ctl, id, target, this.clock.now())
    );
    await this.stepSoon(id);
  }

  /** Stops every replica; requests are refused until started again. */
  async stopEndpoint(
    id: string,
    reason = 'Stopped by its owner'
  ): Promise<void> {
    await this.exclusive(id, async () => {
      const ep = this.ctl.mustGet(id);
      const next = this.ctl.save({
        ...ep,
        desired: 'stopped',
        state: 'stopped',
        reason
      });
      await stopAll(this.ctl, next, reason);
      this.ctl.rejectWaiters(
        id,
        `Endpoint ${ep.name} is stopped; its owner can start it again`
      );
    });
  }

  /** Stops the replicas and forgets the endpoint. */
  async deleteEndpoint(id: string): Promise<void> {
    await this.exclusive(id, async () => {
      const ep = this.ctl.mustGet(id);
      await stopAll(this.ctl, ep, 'Endpoint deleted');
      this.ctl.announce(ep, true);
      this.table.delete(id);
      this.ctl.rejectWaiters(id, `Endpoint ${ep.name} was deleted`);
    });
    this.ctl.runtimes.delete(id);
  }

  private async wake(id: string): Promise<void> {
    await this.exclusive(id, async () => {
      const ep = this.ctl.mustGet(id);
      if (ep.state !== 'scaled-to-zero' || ep.desired !== 'running') {
        return;
      }
      checkUserSlots(this.ctl, ep);
      this.deps.logger.info({ endpoint: id }, 'waking endpoint');
      this.ctl.save(woken(ep, this.clock.now()));
    });
  }

  // ---------------------------------------------------------------- reconcile

  /** Facts each provider adds for the create dialog (flavors, quota). */
  providerDetails(): Promise<Map<string, Partial<ServingProviderInfo>>> {
    return providerDetails(this.ctl);
  }

  /** Compares each provider's replicas with the store (see `reconcile.ts`). */
  async reconcile(atStart = true): Promise<void> {
    this.lastReconcileAt = this.clock.now();
    await reconcile(this.ctl, atStart);
  }

  // ---------------------------------------------------------------- the step

  private async step(id: string): Promise<void> {
    let ep = this.table.get(id);
    const rt = this.runtime(id);
    if (ep === undefined) {
      this.ctl.rejectWaiters(id, `No endpoint ${id}`);
      return;
    }
    const now = this.clock.now();
    if (
      rt.lastTouched !== null &&
      (ep.lastRequestAt === null ||
        rt.lastTouched > Date.parse(ep.lastRequestAt))
    ) {
      ep = { ...ep, lastRequestAt: iso(rt.lastTouched) };
    }

    // 1. Observe the active replicas.
    for (const r of this.ctl.activeOf(id)) {
      ep = await observe(this.ctl, ep, r, now);
    }

    // 2. Decide.
    const serveNow =
      ep.desired === 'running' &&
      ep.state !== 'failed' &&
      ep.state !== 'scaled-to-zero';
    if (!serveNow) {
      await stopAll(this.ctl, ep, ep.reason ?? 'Not serving');
    } else if (idleTooLong(ep, now)) {
      ep = await scaleToZero(this.ctl, ep);
    } else {
      ep = await converge(this.ctl, ep, now);
    }
    if (ep.roll !== null) {
      ep = await advanceRoll(this.ctl, ep, now);
    }

    // 3. Routes, state, waiters.
    const active = this.ctl.activeOf(id);
    const current = ep;
    rt.routes = active
      .filter(r => r.state === 'ready' && !rt.suspect.has(r.id))
      .sort((a, b) => (ms(b.readyAt) ?? 0) - (ms(a.readyAt) ?? 0))
      .map(r => ({
        baseUrl: baseUrlOf(r.address ?? ''),
        apiKey: keyOf(current, r),
        replicaId: r.id
      }));
    const state = stateOf(this.ctl, ep, active, now);
    if (
      state !== ep.state ||
      JSON.stringify(ep) !== JSON.stringify(this.ctl.cached(id))
    ) {
      ep = this.ctl.save({ ...ep, state });
    }
    this.settleWaiters(ep, now);
  }

  private settleWaiters(ep: IEndpointRecord, now: number): void {
    const rt = this.runtime(ep.id);
    if (rt.waiters.size === 0) {
      return;
    }
    const route = rt.routes[0];
    for (const w of [...rt.waiters]) {
      if (route !== undefined) {
        rt.waiters.delete(w);
        w.resolve(route);
        continue;
      }
      let error: DomainError | null = null;
      try {
        this.ctl.refuseUnavailable(ep);
      } catch (e) {
        error = e as DomainError;
      }
      if (error === null && now >= w.deadline) {
        error = new DomainError(
          'upstream_unavailable',
          `Endpoint ${ep.name} did not become ready within ${this.serving.holdSeconds} s (state ${ep.state}${ep.reason === null ? '' : `: ${ep.reason}`})`
        );
      }
      if (error !== null) {
        rt.waiters.delete(w);
        w.reject(error);
      }
    }
  }
}
