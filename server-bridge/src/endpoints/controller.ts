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
 * Replica states: pending → starting → ready → draining → stopped; failed.
 */
import { randomBytes } from 'node:crypto';
import type { BaseLogger } from 'pino';
import type { BridgeConfig } from '../config';
import type { EndpointState } from '../contract';
import { HttpError } from '../errors';
import type { ServingProviderInfo, ServingProviderName } from '../contract';
import type {
  IEndpointRouter,
  IReplicaHandle,
  IServingProvider,
  IStopOptions,
  IUpstream,
  ReplicaStatus
} from './ports';
import { renderArgv } from './recipe';
import {
  ACTIVE_REPLICA_STATES,
  type EndpointTable,
  type IEndpointRecord,
  type IReplicaRecord
} from './table';

export interface IClock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: IClock = { now: () => Date.now() };

/** GETs the health path of a replica; ok on a 2xx answer. */
export type HealthCheck = (
  url: string,
  apiKey: string
) => Promise<{ ok: boolean; detail: string }>;

export const httpHealthCheck: HealthCheck = async (url, apiKey) => {
  try {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${apiKey}` },
      signal: AbortSignal.timeout(5000)
    });
    await res.arrayBuffer().catch(() => undefined);
    return { ok: res.ok, detail: `HTTP ${res.status}` };
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return {
      ok: false,
      detail: cause?.code ?? cause?.message ?? (e as Error).message
    };
  }
};

export interface IEndpointControllerDeps {
  config: Pick<BridgeConfig, 'serving' | 'recipes' | 'models'>;
  table: EndpointTable;
  providers: ReadonlyMap<string, IServingProvider>;
  logger: Pick<BaseLogger, 'info' | 'warn' | 'debug'>;
  clock?: IClock;
  health?: HealthCheck;
  /** Milliseconds between two loop ticks; default 1000. */
  tickMs?: number;
  /** After a drain starts, the old replica is stopped this many seconds later; default 60. */
  drainSeconds?: number;
  /** A ready endpoint without a request for this long shows as `idle`; default 60. */
  idleAfterSeconds?: number;
}

interface IWaiter {
  deadline: number;
  resolve: (u: IUpstream) => void;
  reject: (e: Error) => void;
}

/** What the controller keeps in memory per endpoint (rebuilt after a restart). */
interface IRuntime {
  /** The stored record as last written (the gateway's hot path reads this). */
  record: IEndpointRecord | null;
  waiters: Set<IWaiter>;
  /** Ready replicas to route to, newest first. */
  routes: IUpstream[];
  healthFailures: Map<string, number>;
  lastHealthAt: Map<string, number>;
  /** When a replica was first seen running (start timeout). */
  runningSince: Map<string, number>;
  /** Replicas the gateway reported failing: not routed to until a health check passes. */
  suspect: Map<string, string>;
  lastTouched: number | null;
  stepping: Promise<void> | null;
  again: boolean;
}

export function newReplicaId(): string {
  return randomBytes(6).toString('hex');
}

export function newUpstreamKey(): string {
  return randomBytes(24).toString('base64url');
}

/** The key replica `r` expects (its own; the endpoint's for one started before). */
function keyOf(ep: IEndpointRecord, r: IReplicaRecord): string {
  return r.upstreamKey ?? ep.upstreamKey ?? '';
}

function baseUrlOf(address: string): string {
  return `http://${address}`;
}

function addressOf(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function ms(isoText: string | null): number | null {
  return isoText === null ? null : Date.parse(isoText);
}

export class EndpointController implements IEndpointRouter {
  private readonly clock: IClock;
  private readonly health: HealthCheck;
  private readonly runtimes = new Map<string, IRuntime>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  /** The loop runs (between `start` and `stop`). */
  private looping = false;
  /** `stop` was called: no more steps. */
  private closed = false;
  private lastReconcileAt = 0;

  constructor(private readonly deps: IEndpointControllerDeps) {
    this.clock = deps.clock ?? systemClock;
    this.health = deps.health ?? httpHealthCheck;
  }

  private get serving() {
    return this.deps.config.serving;
  }

  private get table() {
    return this.deps.table;
  }

  private runtime(id: string): IRuntime {
    let rt = this.runtimes.get(id);
    if (rt === undefined) {
      rt = {
        record: null,
        waiters: new Set(),
        routes: [],
        healthFailures: new Map(),
        lastHealthAt: new Map(),
        runningSince: new Map(),
        suspect: new Map(),
        lastTouched: null,
        stepping: null,
        again: false
      };
      this.runtimes.set(id, rt);
    }
    return rt;
  }

  private provider(name: string): IServingProvider {
    const p = this.deps.providers.get(name);
    if (p === undefined) {
      throw new HttpError(
        'bad_request',
        `The ${name} provider is not configured on this bridge`
      );
    }
    return p;
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
    for (const rt of this.runtimes.values()) {
      await rt.stepping;
      for (const w of rt.waiters) {
        w.reject(
          new HttpError('upstream_unavailable', 'The bridge is shutting down')
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

  /** The endpoint's record, from memory when the controller wrote it last. */
  private cached(id: string): IEndpointRecord | undefined {
    const rt = this.runtimes.get(id);
    if (rt !== undefined && rt.record !== null) {
      return rt.record;
    }
    const rec = this.table.get(id);
    if (rec !== undefined) {
      this.runtime(id).record = rec;
    }
    return rec;
  }

  async upstream(endpointId: string, signal: AbortSignal): Promise<IUpstream> {
    const ep = this.cached(endpointId);
    if (ep === undefined) {
      throw new HttpError('not_found', `No endpoint ${endpointId}`);
    }
    this.touched(endpointId);
    this.refuseUnavailable(ep);
    const rt = this.runtime(endpointId);
    const route = rt.routes[0];
    if (route !== undefined) {
      return route;
    }
    if (signal.aborted) {
      throw new HttpError('upstream_unavailable', 'The request was aborted');
    }
    if (ep.state === 'scaled-to-zero') {
      await this.wake(endpointId);
    }
    return new Promise<IUpstream>((resolve, reject) => {
      const onAbort = () => {
        rt.waiters.delete(waiter);
        reject(
          new HttpError('upstream_unavailable', 'The request was aborted')
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
    });
  }

  touched(endpointId: string): void {
    this.runtime(endpointId).lastTouched = this.clock.now();
  }

  upstreamFailed(endpointId: string, replicaId: string, reason: string): void {
    const rt = this.runtime(endpointId);
    rt.suspect.set(replicaId, reason);
    rt.routes = rt.routes.filter(r => r.replicaId !== replicaId);
    this.deps.logger.info(
      { endpoint: endpointId, replica: replicaId, reason },
      'upstream call failed; checking the replica'
    );
    void this.stepSoon(endpointId);
  }

  modelOf(endpointId: string): string | null {
    return this.cached(endpointId)?.model ?? null;
  }

  private refuseUnavailable(ep: IEndpointRecord): void {
    if (ep.desired === 'stopped') {
      throw new HttpError(
        'upstream_unavailable',
        `Endpoint ${ep.name} is stopped; its owner can start it again`
      );
    }
    if (ep.state === 'failed') {
      throw new HttpError(
        'upstream_unavailable',
        `Endpoint ${ep.name} failed: ${ep.reason ?? 'unknown reason'}`
      );
    }
  }

  // ---------------------------------------------------------------- owner actions

  /** A new endpoint record (state pending); the loop starts its first replica. */
  create(
    ep: Omit<
      IEndpointRecord,
      | 'desired'
      | 'state'
      | 'reason'
      | 'restarts'
      | 'failuresInRow'
      | 'upstreamKey'
      | 'createdAt'
      | 'updatedAt'
      | 'lastRequestAt'
      | 'activeSince'
      | 'fallback'
      | 'fallbackReason'
      | 'tiers'
      | 'tierEnv'
    > &
      Partial<Pick<IEndpointRecord, 'tiers' | 'tierEnv'>> & {
        fallback?: ServingProviderName | null;
      }
  ): IEndpointRecord {
    this.checkUserSlots({ ...ep, id: ep.id });
    const now = iso(this.clock.now());
    const rec: IEndpointRecord = {
      ...ep,
      tiers: ep.tiers ?? [],
      tierEnv: ep.tierEnv ?? {},
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
    void this.stepSoon(rec.id);
    return rec;
  }

  /** Serve again (after stop, failure or scale to zero); restarts are counted anew. */
  async startEndpoint(id: string): Promise<void> {
    await this.exclusive(id, async () => {
      const ep = this.mustGet(id);
      this.checkUserSlots(ep);
      const now = this.clock.now();
      this.save({
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

  /** Stops every replica; requests are refused until started again. */
  async stopEndpoint(
    id: string,
    reason = 'Stopped by its owner'
  ): Promise<void> {
    await this.exclusive(id, async () => {
      const ep = this.mustGet(id);
      const next = this.save({
        ...ep,
        desired: 'stopped',
        state: 'stopped',
        reason
      });
      await this.stopAll(next, reason);
      this.rejectWaiters(
        id,
        `Endpoint ${ep.name} is stopped; its owner can start it again`
      );
    });
  }

  /** Stops the replicas and forgets the endpoint. */
  async deleteEndpoint(id: string): Promise<void> {
    await this.exclusive(id, async () => {
      const ep = this.mustGet(id);
      await this.stopAll(ep, 'Endpoint deleted');
      this.table.delete(id);
      this.rejectWaiters(id, `Endpoint ${ep.name} was deleted`);
    });
    this.runtimes.delete(id);
  }

  private async wake(id: string): Promise<void> {
    await this.exclusive(id, async () => {
      const ep = this.mustGet(id);
      if (ep.state !== 'scaled-to-zero' || ep.desired !== 'running') {
        return;
      }
      this.checkUserSlots(ep);
      this.deps.logger.info({ endpoint: id }, 'waking endpoint');
      this.save({
        ...ep,
        state: 'pending',
        reason: 'Woken by a request',
        activeSince: iso(this.clock.now())
      });
    });
  }

  /**
   * `serving.providers.local.maxReplicasPerUser`: an endpoint on the local provider may
   * start (create, start, wake) only while its owner's other serving endpoints there
   * are fewer (429 otherwise). The provider checks it again when it spawns.
   */
  private checkUserSlots(
    ep: Pick<IEndpointRecord, 'id' | 'owner' | 'provider'>
  ) {
    const cap = this.serving.providers.local?.maxReplicasPerUser;
    if (ep.provider !== 'local' || cap === undefined) {
      return;
    }
    const others = this.table
      .list(ep.owner)
      .filter(
        x =>
          x.id !== ep.id &&
          x.desired === 'running' &&
          !['failed', 'scaled-to-zero', 'stopped'].includes(x.state) &&
          (x.provider === 'local' ||
            this.activeOf(x.id).some(r => r.provider === 'local'))
      );
    if (others.length >= cap) {
      throw new HttpError(
        'rate_limited',
        `At most ${cap} endpoint${cap === 1 ? '' : 's'} of one user run on the local provider at once (maxReplicasPerUser); ${others
          .map(x => x.name)
          .sort()
          .join(
            ', '
          )} ${others.length === 1 ? 'runs' : 'run'} now: stop one first or choose another provider`
      );
    }
  }

  private mustGet(id: string): IEndpointRecord {
    const ep = this.table.get(id);
    if (ep === undefined) {
      throw new HttpError('not_found', `No endpoint ${id}`);
    }
    return ep;
  }

  private save(ep: IEndpointRecord): IEndpointRecord {
    const next = { ...ep, updatedAt: iso(this.clock.now()) };
    this.table.update(next);
    this.runtime(ep.id).record = next;
    return next;
  }

  private rejectWaiters(id: string, message: string): void {
    const rt = this.runtime(id);
    rt.routes = [];
    for (const w of rt.waiters) {
      w.reject(new HttpError('upstream_unavailable', message));
    }
    rt.waiters.clear();
  }

  // ---------------------------------------------------------------- reconcile

  /** Facts each provider adds for the create dialog (flavors, quota). */
  async providerDetails(): Promise<Map<string, Partial<ServingProviderInfo>>> {
    const out = new Map<string, Partial<ServingProviderInfo>>();
    for (const [name, p] of this.deps.providers) {
      if (p.describe !== undefined) {
        out.set(name, await p.describe());
      }
    }
    return out;
  }

  /**
   * Compares each provider's replicas with the store. A replica the store does not know
   * as active is stopped (no orphans; a parked one is kept while its endpoint sleeps); a
   * stored replica without a handle (the bridge died while starting it) adopts the
   * provider's. At start (`atStart`), stored replicas the provider no longer has are
   * marked stopped and kept ones are health-checked before they get requests; later,
   * the loop's status checks replace vanished replicas.
   */
  async reconcile(atStart = true): Promise<void> {
    this.lastReconcileAt = this.clock.now();
    for (const [name, provider] of this.deps.providers) {
      let listed;
      try {
        listed = await provider.list();
      } catch (e) {
        this.deps.logger.warn(
          { provider: name, err: e },
          'cannot list replicas; keeping the stored ones'
        );
        continue;
      }
      // Read after listing: a replica's record is written before its provider starts it.
      const stored = this.table
        .activeReplicas()
        .filter(x => x.provider === name);
      const byId = new Map(listed.map(x => [x.handle.replicaId, x]));
      const storedIds = new Set<string>();
      for (const r of stored) {
        storedIds.add(r.id);
        const found = byId.get(r.id);
        if (found !== undefined) {
          if (r.handle === null) {
            this.deps.logger.info(
              { provider: name, replica: r.id },
              'adopting a replica started before the bridge stopped'
            );
            this.table.putReplica({ ...r, handle: found.handle });
          }
          if (atStart && r.state === 'ready') {
            this.runtime(r.endpointId).suspect.set(r.id, 'bridge restarted');
          }
          continue;
        }
        if (atStart) {
          this.table.putReplica({
            ...r,
            state: 'stopped',
            reason: 'Gone while the bridge was not running',
            stoppedAt: iso(this.clock.now())
          });
        }
      }
      for (const x of listed) {
        if (storedIds.has(x.handle.replicaId)) {
          continue;
        }
        if (x.parked === true && this.sleeps(x.endpointId)) {
          continue;
        }
        this.deps.logger.info(
          { provider: name, replica: x.handle.replicaId, owner: x.owner },
          'stopping a replica the store does not know'
        );
        await provider
          .stop(x.handle)
          .catch((e: unknown) =>
            this.deps.logger.warn(
              { provider: name, err: e },
              'cannot stop an unknown replica'
            )
          );
      }
    }
  }

  /** The endpoint exists and is scaled to zero (its parked replica may wake). */
  private sleeps(endpointId: string): boolean {
    const ep = this.table.get(endpointId);
    return (
      ep !== undefined &&
      ep.desired === 'running' &&
      ep.state === 'scaled-to-zero'
    );
  }

  // ---------------------------------------------------------------- the step

  private async step(id: string): Promise<void> {
    let ep = this.table.get(id);
    const rt = this.runtime(id);
    if (ep === undefined) {
      this.rejectWaiters(id, `No endpoint ${id}`);
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
    for (const r of this.activeOf(id)) {
      ep = await this.observe(ep, r, now);
    }

    // 2. Decide.
    const serveNow =
      ep.desired === 'running' &&
      ep.state !== 'failed' &&
      ep.state !== 'scaled-to-zero';
    if (!serveNow) {
      await this.stopAll(ep, ep.reason ?? 'Not serving');
    } else if (this.idleFor(ep, now) >= ep.idleMinutes * 60_000) {
      ep = {
        ...ep,
        state: 'scaled-to-zero',
        reason: `No request for ${ep.idleMinutes} minute${ep.idleMinutes === 1 ? '' : 's'}; the next request wakes it`
      };
      this.deps.logger.info({ endpoint: id }, 'scaling to zero');
      await this.stopAll(ep, 'Scaled to zero', { park: true });
    } else {
      ep = await this.converge(ep, now);
    }

    // 3. Routes, state, waiters.
    const active = this.activeOf(id);
    const current = ep;
    rt.routes = active
      .filter(r => r.state === 'ready' && !rt.suspect.has(r.id))
      .sort((a, b) => (ms(b.readyAt) ?? 0) - (ms(a.readyAt) ?? 0))
      .map(r => ({
        baseUrl: baseUrlOf(r.address ?? ''),
        apiKey: keyOf(current, r),
        replicaId: r.id
      }));
    const state = this.stateOf(ep, active, now);
    if (
      state !== ep.state ||
      JSON.stringify(ep) !== JSON.stringify(this.cached(id))
    ) {
      ep = this.save({ ...ep, state });
    }
    this.settleWaiters(ep, now);
  }

  private activeOf(id: string): IReplicaRecord[] {
    return this.table
      .replicas(id)
      .filter(r => ACTIVE_REPLICA_STATES.includes(r.state));
  }

  private idleFor(ep: IEndpointRecord, now: number): number {
    const since = Math.max(
      Date.parse(ep.activeSince),
      ms(ep.lastRequestAt) ?? 0
    );
    return now - since;
  }

  private stateOf(
    ep: IEndpointRecord,
    active: readonly IReplicaRecord[],
    now: number
  ): EndpointState {
    if (ep.desired === 'stopped') {
      return 'stopped';
    }
    if (ep.state === 'failed' || ep.state === 'scaled-to-zero') {
      return ep.state;
    }
    if (active.some(r => r.state === 'ready')) {
      const idleAfter = (this.deps.idleAfterSeconds ?? 60) * 1000;
      return this.idleFor(ep, now) >= idleAfter ? 'idle' : 'ready';
    }
    if (active.some(r => r.state === 'pending' || r.state === 'starting')) {
      return 'starting';
    }
    return 'pending';
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
      let error: HttpError | null = null;
      try {
        this.refuseUnavailable(ep);
      } catch (e) {
        error = e as HttpError;
      }
      if (error === null && now >= w.deadline) {
        error = new HttpError(
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

  /** Provider status + health of one active replica; returns the endpoint, updated. */
  private async observe(
    ep: IEndpointRecord,
    r: IReplicaRecord,
    now: number
  ): Promise<IEndpointRecord> {
    const rt = this.runtime(ep.id);
    if (r.handle === null) {
      return this.replicaFailed(ep, r, 'the provider gave no handle');
    }
    let status: ReplicaStatus;
    try {
      status = await this.provider(r.provider).status(r.handle);
    } catch (e) {
      this.deps.logger.warn(
        { endpoint: ep.id, replica: r.id, err: e },
        'cannot read the replica status'
      );
      return ep;
    }
    if (status.state === 'gone' || status.state === 'failed') {
      const endsAt = ms(r.endsAt);
      if (r.state === 'draining') {
        this.putReplica({ ...r, state: 'stopped', stoppedAt: iso(now) });
        return ep;
      }
      if (endsAt !== null && now >= endsAt - 30_000) {
        this.putReplica({
          ...r,
          state: 'stopped',
          reason: 'Reached its time limit',
          stoppedAt: iso(now)
        });
        return ep;
      }
      const why =
        status.state === 'failed'
          ? status.reason
          : (status.reason ?? 'the replica is gone');
      const noCapacity =
        status.state === 'failed' && status.noCapacity === true;
      if (noCapacity && this.canFallBack(ep, r.provider)) {
        return this.fallBack(ep, r, why, now);
      }
      return this.replicaFailed(ep, r, why, noCapacity);
    }
    if (status.state === 'pending') {
      const waitMs = this.serving.fallbackAfterMinutes * 60_000;
      if (
        this.canFallBack(ep, r.provider) &&
        now - Date.parse(r.createdAt) >= waitMs
      ) {
        const minutes = this.serving.fallbackAfterMinutes;
        return this.fallBack(
          ep,
          r,
          `the ${r.provider} replica was still waiting after ${minutes} minute${minutes === 1 ? '' : 's'}${status.detail === undefined ? '' : ` (${status.detail})`}`,
          now
        );
      }
      if (r.reason !== (status.detail ?? null)) {
        this.putReplica({ ...r, reason: status.detail ?? null });
      }
      return ep;
    }
    // running
    const address = addressOf(status.host, status.port);
    let next: IReplicaRecord = {
      ...r,
      address,
      endsAt: status.endsAt === null ? r.endsAt : status.endsAt.toISOString(),
      state: r.state === 'pending' ? 'starting' : r.state,
      reason: r.state === 'pending' ? null : r.reason
    };
    if (!rt.runningSince.has(r.id)) {
      rt.runningSince.set(r.id, now);
    }
    const recipe = this.recipeOf(ep);
    const url = `${baseUrlOf(address)}${recipe?.health ?? '/health'}`;
    if (next.state === 'starting') {
      const h = await this.health(url, keyOf(ep, r));
      if (h.ok) {
        next = { ...next, state: 'ready', readyAt: iso(now), reason: null };
        rt.healthFailures.set(r.id, 0);
        rt.lastHealthAt.set(r.id, now);
        rt.suspect.delete(r.id);
        this.putReplica(next);
        this.deps.logger.info(
          { endpoint: ep.id, replica: r.id, address },
          'replica ready'
        );
        return {
          ...ep,
          failuresInRow: 0,
          reason: ep.restarts > 0 ? ep.reason : null,
          fallbackReason: r.provider === ep.provider ? null : ep.fallbackReason
        };
      }
      const since = rt.runningSince.get(r.id) ?? now;
      if (now - since >= this.serving.startMinutes * 60_000) {
        return this.replicaFailed(
          ep,
          next,
          `not healthy within ${this.serving.startMinutes} minutes of starting (${h.detail})`
        );
      }
      this.putReplicaIfChanged(r, next);
      return ep;
    }
    if (next.state === 'ready') {
      const suspect = rt.suspect.get(r.id);
      const last = rt.lastHealthAt.get(r.id) ?? 0;
      if (
        suspect === undefined &&
        now - last < this.serving.healthSeconds * 1000
      ) {
        this.putReplicaIfChanged(r, next);
        return ep;
      }
      const h = await this.health(url, keyOf(ep, r));
      rt.lastHealthAt.set(r.id, now);
      if (h.ok) {
        rt.healthFailures.set(r.id, 0);
        rt.suspect.delete(r.id);
        this.putReplicaIfChanged(r, next);
        return ep;
      }
      const failures = (rt.healthFailures.get(r.id) ?? 0) + 1;
      rt.healthFailures.set(r.id, failures);
      if (suspect !== undefined || failures >= this.serving.healthFailures) {
        const ended = await this.endedReason(r);
        return this.replicaFailed(
          ep,
          next,
          ended ??
            (suspect !== undefined
              ? `requests failed (${suspect}) and the health check failed (${h.detail})`
              : `${failures} health checks failed in a row (${h.detail})`)
        );
      }
      this.putReplicaIfChanged(r, next);
      return ep;
    }
    // draining: stop once drained (a quiet period) or at its time limit
    const drainSince = ms(next.drainingSince) ?? now;
    const endsAt = ms(next.endsAt);
    if (
      now - drainSince >= (this.deps.drainSeconds ?? 60) * 1000 ||
      (endsAt !== null && now >= endsAt)
    ) {
      await this.stopReplica(next, 'Drained after a walltime handover');
      return ep;
    }
    this.putReplicaIfChanged(r, next);
    return ep;
  }

  /** Starts what is missing: a replica, a handover successor; drains the replaced. */
  private async converge(
    ep: IEndpointRecord,
    now: number
  ): Promise<IEndpointRecord> {
    const active = this.activeOf(ep.id);
    const inFlight = active.filter(
      r => r.state === 'pending' || r.state === 'starting'
    );
    const ready = active
      .filter(r => r.state === 'ready')
      .sort((a, b) => (ms(b.readyAt) ?? 0) - (ms(a.readyAt) ?? 0));

    // A newer replica is ready: the older ready ones drain.
    for (const old of ready.slice(1)) {
      this.putReplica({
        ...old,
        state: 'draining',
        drainingSince: iso(now),
        reason: `Replaced by ${ready[0]?.id ?? '?'} (walltime handover)`
      });
      this.deps.logger.info(
        { endpoint: ep.id, replica: old.id, successor: ready[0]?.id },
        'handover: draining the old replica'
      );
    }
    const serving = ready[0];
    if (serving === undefined && inFlight.length === 0) {
      return this.startReplica(ep, null, now);
    }
    if (serving !== undefined && inFlight.length === 0) {
      const endsAt = ms(serving.endsAt);
      const limitMs = ep.resources.timeMinutes * 60_000;
      const lead = Math.min(this.serving.handoverMinutes * 60_000, limitMs / 2);
      if (endsAt !== null && now >= endsAt - lead) {
        this.deps.logger.info(
          { endpoint: ep.id, replica: serving.id, endsAt: serving.endsAt },
          'handover: starting the next replica'
        );
        return this.startReplica(ep, serving.id, now);
      }
    }
    return ep;
  }

  private recipeOf(ep: IEndpointRecord) {
    const model = this.deps.config.models.find(m => m.name === ep.model);
    return model === undefined
      ? undefined
      : this.deps.config.recipes.find(r => r.name === model.recipe);
  }

  private async startReplica(
    ep: IEndpointRecord,
    handoverOf: string | null,
    now: number,
    provider: ServingProviderName = ep.provider
  ): Promise<IEndpointRecord> {
    const model = this.deps.config.models.find(m => m.name === ep.model);
    const recipe = this.recipeOf(ep);
    const upstreamKey = newUpstreamKey();
    const rec: IReplicaRecord = {
      id: newReplicaId(),
      endpointId: ep.id,
      provider,
      handle: null,
      state: 'pending',
      address: null,
      reason: null,
      handoverOf,
      createdAt: iso(now),
      readyAt: null,
      endsAt: null,
      drainingSince: null,
      stoppedAt: null,
      upstreamKey
    };
    if (model === undefined || recipe === undefined) {
      this.putReplica({
        ...rec,
        state: 'failed',
        reason: `model ${ep.model} is no longer in the catalog`
      });
      return {
        ...ep,
        state: 'failed',
        reason: `Model ${ep.model} is no longer in the catalog`
      };
    }
    this.putReplica(rec);
    try {
      const argv = renderArgv(recipe, {
        model: model.path,
        threads: ep.resources.cpus
      });
      const handle = await this.provider(provider).start({
        endpointId: ep.id,
        replicaId: rec.id,
        owner: ep.owner,
        modelPath: model.path,
        argv,
        upstreamKey,
        keyEnv: recipe.keyEnv,
        resources: ep.resources,
        env: ep.tierEnv
      });
      this.putReplica({
        ...rec,
        handle,
        reason: null,
        upstreamKey: this.wokenKey(ep.id, handle) ?? upstreamKey
      });
      this.deps.logger.info(
        { endpoint: ep.id, replica: rec.id, provider, handoverOf },
        'replica started'
      );
      return ep;
    } catch (e) {
      const noCapacity = (e as { noCapacity?: unknown }).noCapacity === true;
      if (noCapacity && this.canFallBack(ep, provider)) {
        return this.fallBack(ep, rec, (e as Error).message, now);
      }
      return this.replicaFailed(
        ep,
        rec,
        noCapacity
          ? (e as Error).message
          : `could not start: ${(e as Error).message}`,
        noCapacity
      );
    }
  }

  /**
   * A provider that woke a parked replica instead of starting a new one names it in
   * `ref.wokenFrom`: the woken server still expects that replica's key.
   */
  private wokenKey(endpointId: string, handle: IReplicaHandle): string | null {
    const from = handle.ref.wokenFrom;
    if (typeof from !== 'string') {
      return null;
    }
    const parked = this.table
      .replicas(endpointId, 100)
      .find(x => x.id === from);
    if (parked === undefined) {
      return null;
    }
    const ep = this.table.get(endpointId);
    return parked.upstreamKey ?? ep?.upstreamKey ?? null;
  }

  private canFallBack(ep: IEndpointRecord, provider: string): boolean {
    return (
      ep.fallback !== null &&
      ep.fallback !== provider &&
      this.deps.providers.has(ep.fallback)
    );
  }

  /**
   * The primary cannot place replica `r`: it stops (not counted as a failure) and a
   * replica starts on the endpoint's fallback; the endpoint says why.
   */
  private async fallBack(
    ep: IEndpointRecord,
    r: IReplicaRecord,
    why: string,
    now: number
  ): Promise<IEndpointRecord> {
    const fallback = ep.fallback ?? ep.provider;
    // The cause alone: the panel says "Running on <fallback> because <reason>".
    const reason = why.charAt(0).toUpperCase() + why.slice(1);
    if (r.handle !== null) {
      await this.provider(r.provider)
        .stop(r.handle)
        .catch((e: unknown) =>
          this.deps.logger.warn(
            { endpoint: ep.id, replica: r.id, err: e },
            'cannot stop a replica moved to the fallback'
          )
        );
    }
    this.putReplica({
      ...r,
      state: 'stopped',
      reason: `Moved to ${fallback}: ${why}`,
      stoppedAt: iso(now)
    });
    this.runtime(ep.id).routes = this.runtime(ep.id).routes.filter(
      x => x.replicaId !== r.id
    );
    this.deps.logger.info(
      { endpoint: ep.id, replica: r.id, from: r.provider, to: fallback },
      'starting the replica on the fallback provider'
    );
    return this.startReplica(
      { ...ep, fallbackReason: reason },
      r.handoverOf,
      now,
      fallback
    );
  }

  /**
   * Marks a replica failed, stops it, and counts the failure against the bound. When
   * the provider has no room (`noCapacity`) and there is no fallback, retrying at once
   * cannot help: the endpoint fails with the provider's sentence first.
   */
  /** The provider's word on how a replica that stopped answering ended, if it knows. */
  private async endedReason(r: IReplicaRecord): Promise<string | null> {
    const provider = this.provider(r.provider);
    if (r.handle === null || provider.endedReason === undefined) {
      return null;
    }
    return provider.endedReason(r.handle).catch(() => null);
  }

  private async replicaFailed(
    ep: IEndpointRecord,
    r: IReplicaRecord,
    reason: string,
    noCapacity = false
  ): Promise<IEndpointRecord> {
    const rt = this.runtime(ep.id);
    this.putReplica({
      ...r,
      state: 'failed',
      reason,
      stoppedAt: iso(this.clock.now())
    });
    rt.suspect.delete(r.id);
    rt.routes = rt.routes.filter(x => x.replicaId !== r.id);
    if (r.handle !== null) {
      await this.provider(r.provider)
        .stop(r.handle)
        .catch((e: unknown) =>
          this.deps.logger.warn(
            { endpoint: ep.id, replica: r.id, err: e },
            'cannot stop a failed replica'
          )
        );
    }
    const failuresInRow = ep.failuresInRow + 1;
    this.deps.logger.warn(
      { endpoint: ep.id, replica: r.id, reason, failuresInRow },
      'replica failed'
    );
    if (noCapacity) {
      return {
        ...ep,
        failuresInRow,
        state: 'failed',
        reason: `${reason.replace(/\.?$/, '.')} Start it again when there is room, or give it a fallback provider.`
      };
    }
    if (failuresInRow > this.serving.maxRestarts) {
      return {
        ...ep,
        failuresInRow,
        state: 'failed',
        reason: `Replica failed ${failuresInRow} times in a row (the bridge restarts it at most ${this.serving.maxRestarts} times); last: ${reason}`
      };
    }
    return {
      ...ep,
      failuresInRow,
      restarts: ep.restarts + 1,
      reason: `Replica ${r.id} failed and is being replaced (restart ${ep.restarts + 1}): ${reason}`
    };
  }

  private async stopReplica(
    r: IReplicaRecord,
    reason: string,
    options: IStopOptions = {}
  ): Promise<void> {
    if (r.handle !== null) {
      try {
        await this.provider(r.provider).stop(r.handle, options);
      } catch (e) {
        this.deps.logger.warn(
          { replica: r.id, err: e },
          'cannot stop a replica; will retry'
        );
        return;
      }
    }
    this.putReplica({
      ...r,
      state: 'stopped',
      reason,
      stoppedAt: iso(this.clock.now())
    });
  }

  private async stopAll(
    ep: IEndpointRecord,
    reason: string,
    options: IStopOptions = {}
  ): Promise<void> {
    const rt = this.runtime(ep.id);
    rt.routes = [];
    await Promise.all(
      this.activeOf(ep.id).map(r => this.stopReplica(r, reason, options))
    );
  }

  private putReplica(r: IReplicaRecord): void {
    this.table.putReplica(r);
  }

  private putReplicaIfChanged(before: IReplicaRecord, after: IReplicaRecord) {
    if (JSON.stringify(before) !== JSON.stringify(after)) {
      this.putReplica(after);
    }
  }
}
