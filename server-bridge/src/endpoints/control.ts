/**
 * What the parts of the endpoint controller share: its dependencies, the in-memory
 * runtime of each endpoint (waiters, routes, health bookkeeping) and the writes of
 * endpoint and replica records. `EndpointController` owns one; the modules of the
 * control plane (observe, replica effects, handover, scale to zero, reconcile) take it.
 */
import { randomBytes } from 'node:crypto';
import type { BaseLogger } from 'pino';
import type { BridgeConfig } from '../config';
import { DomainError } from '../domain-error';
import type { HealthCheck } from './health';
import { httpHealthCheck } from './health';
import type { RecipeConfig } from '../config';
import type {
  IModelPlacer,
  IServedModel,
  IServingProvider,
  IUpstream,
  ModelPlacement
} from './ports';
import { rejectAll } from './waiters';
import {
  ACTIVE_REPLICA_STATES,
  type EndpointTable,
  type IEndpointRecord,
  type IReplicaRecord
} from './repository/endpoints';

export interface IClock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: IClock = { now: () => Date.now() };

export interface IEndpointControllerDeps {
  config: Pick<BridgeConfig, 'serving' | 'recipes' | 'models'>;
  table: EndpointTable;
  providers: ReadonlyMap<string, IServingProvider>;
  /** By provider name: how its replicas get a user's model file (none: it cannot). */
  placers?: ReadonlyMap<string, IModelPlacer>;
  logger: Pick<BaseLogger, 'info' | 'warn' | 'debug'>;
  clock?: IClock;
  health?: HealthCheck;
  /** Milliseconds between two loop ticks; default 1000. */
  tickMs?: number;
  /** After a drain starts, the old replica is stopped this many seconds later; default 60. */
  drainSeconds?: number;
  /** A ready endpoint without a request for this long shows as `idle`; default 60. */
  idleAfterSeconds?: number;
  /** An endpoint was created, changed state or reason, or was deleted (its owner's stream). */
  changed?: (ep: IEndpointRecord, deleted: boolean) => void;
}

/** What the owner's create decides; the controller fills in the rest of the record. */
export type INewEndpoint = Pick<
  IEndpointRecord,
  | 'id'
  | 'name'
  | 'owner'
  | 'model'
  | 'provider'
  | 'resources'
  | 'idleMinutes'
  | 'visibility'
  | 'group'
> &
  Partial<
    Pick<IEndpointRecord, 'tiers' | 'tierEnv' | 'modelFile' | 'fallback'>
  >;

export interface IWaiter {
  deadline: number;
  resolve: (u: IUpstream) => void;
  reject: (e: Error) => void;
}

/** What the controller keeps in memory per endpoint (rebuilt after a restart). */
export interface IRuntime {
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
  /** Steps run sooner than the loop's while requests are held (`probeWhileHeld`). */
  probing: boolean;
  /** Pending replicas waiting for their model file's copy (started on a later step). */
  modelCopies: Set<string>;
  /** The stored version of `record` when this bridge last read or wrote it. */
  version: number | null;
}

/**
 * Another bridge wrote the endpoint's record since this one read it: the change is
 * dropped and redone on the stored record.
 */
export class StaleRecordError extends Error {
  constructor(readonly endpointId: string) {
    super(`endpoint ${endpointId} was changed meanwhile`);
  }
}

/** The record of a new endpoint: pending, to be served. */
export function newEndpointRecord(
  ep: INewEndpoint,
  nowMs: number
): IEndpointRecord {
  const now = iso(nowMs);
  return {
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
}

/** What the endpoint serves, and the names a request may give for it. */
export function servedModelOf(ep: IEndpointRecord): IServedModel {
  return {
    name: ep.model,
    accepts: [
      ep.model,
      ep.name,
      ...(ep.roll === null ? [] : [ep.roll.from.model])
    ]
  };
}

export function newReplicaId(): string {
  return randomBytes(6).toString('hex');
}

export function newUpstreamKey(): string {
  return randomBytes(24).toString('base64url');
}

/** The key replica `r` expects (its own; the endpoint's for one started before). */
export function keyOf(ep: IEndpointRecord, r: IReplicaRecord): string {
  return r.upstreamKey ?? ep.upstreamKey ?? '';
}

export function baseUrlOf(address: string): string {
  return `http://${address}`;
}

export function addressOf(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function ms(isoText: string | null): number | null {
  return isoText === null ? null : Date.parse(isoText);
}

/** One sentence of `n` minutes: "1 minute", "5 minutes". */
export function minutes(n: number): string {
  return `${n} minute${n === 1 ? '' : 's'}`;
}

export class EndpointControl {
  readonly clock: IClock;
  readonly health: HealthCheck;
  readonly runtimes = new Map<string, IRuntime>();

  constructor(readonly deps: IEndpointControllerDeps) {
    this.clock = deps.clock ?? systemClock;
    this.health = deps.health ?? httpHealthCheck;
  }

  get serving() {
    return this.deps.config.serving;
  }

  get table() {
    return this.deps.table;
  }

  get logger() {
    return this.deps.logger;
  }

  runtime(id: string): IRuntime {
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
        again: false,
        probing: false,
        modelCopies: new Set(),
        version: null
      };
      this.runtimes.set(id, rt);
    }
    return rt;
  }

  provider(name: string): IServingProvider {
    const p = this.deps.providers.get(name);
    if (p === undefined) {
      throw new DomainError(
        'bad_request',
        `The ${name} provider is not configured on this bridge`
      );
    }
    return p;
  }

  /** The endpoint's record, from memory when the controller wrote it last. */
  cached(id: string): IEndpointRecord | undefined {
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

  /** The stored record, read for a change (`save` writes it only if still stored so). */
  read(id: string): IEndpointRecord | undefined {
    const found = this.table.read(id);
    if (found === undefined) {
      return undefined;
    }
    const rt = this.runtime(id);
    rt.record = found.record;
    rt.version = found.version;
    return found.record;
  }

  mustGet(id: string): IEndpointRecord {
    const ep = this.read(id);
    if (ep === undefined) {
      throw new DomainError('not_found', `No endpoint ${id}`);
    }
    return ep;
  }

  /**
   * Writes the record; throws `StaleRecordError` when another bridge wrote it after
   * this one read it (`read`, `mustGet`).
   */
  save(ep: IEndpointRecord): IEndpointRecord {
    const before = this.cached(ep.id);
    const next = { ...ep, updatedAt: iso(this.clock.now()) };
    const rt = this.runtime(ep.id);
    if (rt.version === null) {
      this.table.update(next);
    } else if (this.table.updateIf(next, rt.version)) {
      rt.version += 1;
    } else {
      rt.record = null;
      rt.version = null;
      throw new StaleRecordError(ep.id);
    }
    rt.record = next;
    if (before?.state !== next.state || before?.reason !== next.reason) {
      this.announce(next);
    }
    return next;
  }

  /** Runs an owner's change again on the stored record while other bridges write it. */
  async retryStale<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof StaleRecordError) || attempt >= 5) {
          throw e;
        }
      }
    }
  }

  /** Tells `changed` (a failure to is logged: the endpoint's step goes on). */
  announce(ep: IEndpointRecord, deleted = false): void {
    try {
      this.deps.changed?.(ep, deleted);
    } catch (e) {
      this.logger.warn({ err: e, endpoint: ep.id }, 'endpoint event not sent');
    }
  }

  putReplica(r: IReplicaRecord): void {
    this.table.putReplica(r);
  }

  putReplicaIfChanged(before: IReplicaRecord, after: IReplicaRecord): void {
    if (JSON.stringify(before) !== JSON.stringify(after)) {
      this.putReplica(after);
    }
  }

  /** Routes to the ready replicas not under suspicion, newest first. */
  routesOf(
    ep: IEndpointRecord,
    active: readonly IReplicaRecord[],
    suspect: { has(replicaId: string): boolean }
  ): IUpstream[] {
    return active
      .filter(r => r.state === 'ready' && !suspect.has(r.id))
      .sort((a, b) => (ms(b.readyAt) ?? 0) - (ms(a.readyAt) ?? 0))
      .map(r => ({
        baseUrl: baseUrlOf(r.address ?? ''),
        apiKey: keyOf(ep, r),
        replicaId: r.id
      }));
  }

  activeOf(id: string): IReplicaRecord[] {
    return this.table
      .replicas(id)
      .filter(r => ACTIVE_REPLICA_STATES.includes(r.state));
  }

  /** Routes nothing to replica `replicaId` of the endpoint. */
  unroute(endpointId: string, replicaId: string): void {
    const rt = this.runtime(endpointId);
    rt.routes = rt.routes.filter(x => x.replicaId !== replicaId);
  }

  /**
   * A request to replica `replicaId` failed: it gets none until a health check passes
   * (the `suspect` effect of `request-failed`).
   */
  suspect(endpointId: string, replicaId: string, reason: string): void {
    this.runtime(endpointId).suspect.set(replicaId, reason);
    this.unroute(endpointId, replicaId);
  }

  rejectWaiters(id: string, message: string): void {
    const rt = this.runtime(id);
    rt.routes = [];
    rejectAll(rt.waiters, message);
  }

  /**
   * Forgets the endpoints no longer stored (deleted on another bridge), answering their
   * held requests; true when one of them had been served here.
   */
  forgetDeleted(stored: ReadonlySet<string>): boolean {
    let served = false;
    for (const [id, rt] of this.runtimes) {
      if (stored.has(id) || rt.stepping !== null) {
        continue;
      }
      served ||= rt.record !== null;
      this.rejectWaiters(id, `No endpoint ${id}`);
      this.runtimes.delete(id);
    }
    return served;
  }

  /** Throws the 503 a request gets while the endpoint is stopped or failed. */
  refuseUnavailable(ep: IEndpointRecord): void {
    if (ep.desired === 'stopped') {
      throw new DomainError(
        'upstream_unavailable',
        `Endpoint ${ep.name} is stopped; its owner can start it again`
      );
    }
    if (ep.state === 'failed') {
      throw new DomainError(
        'upstream_unavailable',
        `Endpoint ${ep.name} failed: ${ep.reason ?? 'unknown reason'}`
      );
    }
  }

  /**
   * The recipe of the model `ep` serves and, for a catalog model, its path (a user's
   * file is placed for each replica); a sentence when it can no longer be served.
   */
  servedModel(
    ep: IEndpointRecord
  ): { recipe: RecipeConfig; path: string | null } | string {
    const { config } = this.deps;
    const file = ep.modelFile;
    const recipeNamed = (name: string) =>
      config.recipes.find(r => r.name === name);
    if (file !== null) {
      const recipe = recipeNamed(file.recipe);
      return recipe !== undefined &&
        config.serving.userModels?.recipes.includes(file.recipe) === true
        ? { recipe, path: null }
        : `recipe ${file.recipe} no longer serves user models (serving.userModels)`;
    }
    const model = config.models.find(m => m.name === ep.model);
    const recipe = model === undefined ? undefined : recipeNamed(model.recipe);
    return model === undefined || recipe === undefined
      ? `model ${ep.model} is no longer in the catalog`
      : { recipe, path: model.path };
  }

  recipeOf(ep: IEndpointRecord): RecipeConfig | undefined {
    const served = this.servedModel(ep);
    return typeof served === 'string' ? undefined : served.recipe;
  }

  /**
   * Where a replica of `ep` on `provider` reads its user model file, or how far its copy
   * has come (a placer that copies in the background).
   */
  async placeModel(
    ep: IEndpointRecord,
    provider: string,
    replicaId: string
  ): Promise<ModelPlacement> {
    const file = ep.modelFile;
    const placer = this.deps.placers?.get(provider);
    if (file === null || placer === undefined) {
      throw new Error(
        `the ${provider} provider cannot serve a model file from a tier`
      );
    }
    const model = { ...file, owner: { name: ep.owner, groups: file.groups } };
    const replica = { endpointId: ep.id, replicaId };
    return placer.begin === undefined
      ? { path: await placer.place(model, replica) }
      : placer.begin(model, replica);
  }
}
