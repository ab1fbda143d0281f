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
 * Endpoint states: pending → starting → ready ↔ idle → scaled-to-zero; failed;
 * stopping → stopped.
 * Replica states: pending → starting → ready → draining → stopped; failed — the table
 * of transitions is `replica-lifecycle.ts`, its effects `replica-effects.ts`.
 *
 * The concerns live in their own modules: `observe.ts` (provider status and health
 * checks), `handover.ts` (a replica when none, the walltime handover), `scale-to-zero.ts`
 * (idle, scale to zero, wake), `reconcile.ts`, `user-slots.ts`; `control.ts` holds what
 * they share. This class is the loop, the gateway's router and the owner's actions.
 *
 * Several bridges may share the store; one of them (the leader) runs the loop (`start`,
 * `stop`, `follow`). The others (followers; every bridge before `start`) route from the
 * store (`stored-routes.ts`) and record the owner's actions there, and the leader's loop
 * picks them up: each step reads its endpoint again, and a write of an endpoint's record
 * made while another bridge wrote it is redone on the stored one (`StaleRecordError`).
 */
import type { ServingProviderInfo } from '../contract';
import { DomainError } from '../domain-error';
import {
  EndpointControl,
  type IEndpointControllerDeps,
  type INewEndpoint,
  iso,
  newEndpointRecord,
  servedModelOf,
  StaleRecordError
} from './control';
import { converge } from './handover';
import {
  advanceRoll,
  type IRollTarget,
  startRoll,
  stopStaleStarts
} from './roll';
import { observe } from './observe';
import { probeWhileHeld } from './held-probe';
import type { IEndpointRouter, IServedModel, IUpstream } from './ports';
import { StoredRouter } from './stored-routes';
import { hold, settleWaiters } from './waiters';
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
  /** The router while this bridge does not lead. */
  private readonly stored: StoredRouter;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  /** This bridge leads: owner actions act on the providers, requests use the loop's routes. */
  private leading = false;
  /** The loop runs (between `start` and `stop`/`follow`). */
  private looping = false;
  /** `stop` or `follow` was called: no more steps. */
  private closed = false;
  private lastReconcileAt = 0;

  constructor(private readonly deps: IEndpointControllerDeps) {
    this.ctl = new EndpointControl(deps);
    this.stored = new StoredRouter(this.ctl, id => this.wake(id));
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

  // ---------------------------------------------------------------- leading

  /**
   * Takes the leader's part without running the loop: owner actions act on the providers
   * and requests use the loop's routes. `start` does this too; tests that drive `tick`
   * themselves call it alone.
   */
  lead(): void {
    this.leading = true;
    this.closed = false;
  }

  /** Leads: reconciles the store with the providers (adopting their replicas), then loops. */
  async start(): Promise<void> {
    if (this.looping) {
      return;
    }
    this.lead();
    this.looping = true;
    await this.reconcile();
    this.schedule();
  }

  /**
   * Stops leading (another bridge was elected): the loop ends, replicas keep running, and
   * requests route from the store; requests held by the loop wait there.
   */
  async follow(): Promise<void> {
    this.leading = false;
    this.looping = false;
    this.closed = true;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    await this.ticking;
    for (const [id, rt] of this.ctl.runtimes) {
      await rt.stepping;
      this.stored.adopt(id, rt.waiters);
      rt.waiters.clear();
    }
    // Health bookkeeping and routes are the loop's; a later `start` rebuilds them.
    this.ctl.runtimes.clear();
  }

  /** Stops the loop as the bridge closes (replicas keep running); held requests get 503. */
  async stop(): Promise<void> {
    await this.follow();
    this.stored.rejectAll('The bridge is shutting down');
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

  /**
   * One step of every endpoint that may change (the loop's; tests call this with a fake
   * clock). The endpoints are read from the store, with those other bridges created.
   */
  async tick(): Promise<void> {
    const run = async () => {
      if (
        this.clock.now() - this.lastReconcileAt >=
        this.serving.reconcileSeconds * 1000
      ) {
        await this.reconcile(false);
      }
      const all = this.table.list();
      if (this.ctl.forgetDeleted(new Set(all.map(ep => ep.id)))) {
        // Deleted on another bridge: its replicas' records went with it.
        await this.reconcile(false);
      }
      const eps = all.filter(
        ep =>
          ep.desired === 'running' ||
          ep.state === 'stopping' ||
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
      // Under an owner's action, the step asked for runs once it is done.
      return rt.stepping.then(() => rt.stepping ?? undefined);
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

  /**
   * Serialises changes of one endpoint: steps and the owner's actions; an action that
   * met another bridge's write runs again on the stored record.
   */
  private async exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const rt = this.runtime(id);
    while (rt.stepping !== null) {
      await rt.stepping;
    }
    let release!: () => void;
    rt.stepping = new Promise<void>(r => (release = r));
    try {
      return await this.ctl.retryStale(fn);
    } finally {
      rt.stepping = null;
      release();
      this.stored.forget(id);
      if (rt.again && this.leading) {
        void this.stepSoon(id);
      }
    }
  }

  // ---------------------------------------------------------------- router (gateway)

  async upstream(endpointId: string, signal: AbortSignal): Promise<IUpstream> {
    if (!this.leading) {
      return this.stored.upstream(endpointId, signal);
    }
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
    const held = hold(
      rt.waiters,
      signal,
      this.clock.now() + this.serving.holdSeconds * 1000
    );
    void this.stepSoon(endpointId);
    this.probeWhileHeld(endpointId);
    return held;
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
    if (!this.leading) {
      this.stored.touched(endpointId);
      return;
    }
    this.runtime(endpointId).lastTouched = this.clock.now();
  }

  upstreamFailed(endpointId: string, replicaId: string, reason: string): void {
    this.deps.logger.info(
      { endpoint: endpointId, replica: replicaId, reason },
      'upstream call failed; checking the replica'
    );
    if (!this.leading) {
      // Not routed to for a while here; the leader's health checks replace it if dead.
      this.stored.upstreamFailed(endpointId, replicaId);
      return;
    }
    // The `request-failed` transition of a ready replica (routes hold ready ones
    // only), without reading the store on the gateway's path.
    this.ctl.suspect(endpointId, replicaId, reason);
    void this.stepSoon(endpointId);
  }

  modelOf(endpointId: string): IServedModel | null {
    const ep = this.leading
      ? this.ctl.cached(endpointId)
      : this.stored.record(endpointId);
    return ep === undefined ? null : servedModelOf(ep);
  }

  // ---------------------------------------------------------------- owner actions
  // On a follower they change the stored records only; the leader's loop acts on them.

  /** A new endpoint record (state pending); the loop starts its first replica. */
  create(ep: INewEndpoint): IEndpointRecord {
    checkUserSlots(this.ctl, { ...ep, id: ep.id });
    const rec = newEndpointRecord(ep, this.clock.now());
    this.table.insert(rec);
    const rt = this.runtime(rec.id);
    rt.record = rec;
    rt.version = 0;
    this.ctl.announce(rec);
    void this.stepIfLeading(rec.id);
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
    await this.stepIfLeading(id);
  }

  /** Serves `target` instead, at the same URL with the same keys (see `roll.ts`). */
  async rollModel(id: string, target: IRollTarget): Promise<void> {
    await this.exclusive(id, () =>
      startRoll(this.ctl, id, target, this.clock.now(), this.leading)
    );
    await this.stepIfLeading(id);
  }

  /**
   * Stops every replica; requests are refused until started again. `stopping` until the
   * leader's step has ended the replicas, then `stopped` (`stateOf`).
   */
  async stopEndpoint(
    id: string,
    reason = 'Stopped by its owner'
  ): Promise<void> {
    await this.exclusive(id, async () => {
      const ep = this.ctl.mustGet(id);
      this.ctl.save({ ...ep, desired: 'stopped', state: 'stopping', reason });
      this.ctl.rejectWaiters(
        id,
        `Endpoint ${ep.name} is stopped; its owner can start it again`
      );
    });
    await this.stepIfLeading(id);
  }

  /**
   * Stops the replicas and forgets the endpoint. On a follower the record goes at once;
   * the leader's loop then stops the replicas it no longer has records of.
   */
  async deleteEndpoint(id: string): Promise<void> {
    await this.exclusive(id, async () => {
      const ep = this.ctl.mustGet(id);
      if (this.leading) {
        await stopAll(this.ctl, ep, 'Endpoint deleted');
      }
      this.ctl.announce(ep, true);
      this.table.delete(id);
      this.ctl.rejectWaiters(id, `Endpoint ${ep.name} was deleted`);
    });
    this.ctl.runtimes.delete(id);
  }

  private stepIfLeading(id: string): Promise<void> {
    return this.leading ? this.stepSoon(id) : Promise.resolve();
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
    let ep = this.ctl.read(id);
    const rt = this.runtime(id);
    if (ep === undefined) {
      this.ctl.rejectWaiters(id, `No endpoint ${id}`);
      return;
    }
    const stored = ep;
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
      ep = await stopStaleStarts(this.ctl, ep, now);
      ep = await converge(this.ctl, ep, now);
    }
    if (ep.roll !== null) {
      ep = await advanceRoll(this.ctl, ep, now);
    }

    // 3. Routes, state, waiters.
    const active = this.ctl.activeOf(id);
    rt.routes = this.ctl.routesOf(ep, active, rt.suspect);
    const state = stateOf(this.ctl, ep, active, now);
    if (state !== ep.state || JSON.stringify(ep) !== JSON.stringify(stored)) {
      try {
        ep = this.ctl.save({ ...ep, state });
      } catch (e) {
        if (!(e instanceof StaleRecordError)) {
          throw e;
        }
        // Another bridge changed it meanwhile (an owner's action): step on that.
        rt.again = true;
        return;
      }
    }
    settleWaiters(this.ctl, rt.waiters, ep, rt.routes[0], now);
  }
}
