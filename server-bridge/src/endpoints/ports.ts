/**
 * Ports of the model-serving endpoints: the control plane (controller, providers)
 * on one side, the OpenAI-compatible gateway on the other.
 */
import type { ServingProviderInfo } from '../contract';

/** Where the gateway sends one request: a ready replica of an endpoint. */
export interface IUpstream {
  baseUrl: string;
  apiKey: string;
  replicaId: string;
}

export interface IEndpointRouter {
  /** The ready replica to send a request to; wakes a scaled-to-zero endpoint and waits
   *  up to holdSeconds (rejects with `upstream_unavailable` + a sentence when it cannot). */
  upstream(endpointId: string, signal: AbortSignal): Promise<IUpstream>;
  /** Marks activity (resets the idle timer) and reports a failed upstream call so the
   *  controller can health-check / replace the replica. */
  touched(endpointId: string): void;
  upstreamFailed(endpointId: string, replicaId: string, reason: string): void;
  /** For GET /v1/models and the model check. */
  modelOf(endpointId: string): IServedModel | null;
}

/** What an endpoint serves, and the names a request may give for it. */
export interface IServedModel {
  name: string;
  /**
   * `name`, the endpoint's own name (stable across rolls) and, while a roll drains the
   * old replicas, the model rolled from: clients keep working through a roll.
   */
  accepts: readonly string[];
}

/** A user's model file on a tier, to be served by a replica. */
export interface IModelFile {
  uri: string;
  tier: string;
  /** The path inside the tier (group folder first). */
  path: string;
  /** The bridge reads it as the endpoint's owner (groups as when the file was checked). */
  owner: { name: string; groups: readonly string[] };
}

/**
 * Brings a model file where one provider's replicas can read it: a copy on the bridge
 * host (local), the file itself or a copy on the cluster (slurm).
 */
export interface IModelPlacer {
  /** The absolute path the replica reads the model at (404 when the owner cannot read it). */
  place(
    file: IModelFile,
    replica: { endpointId: string; replicaId: string }
  ): Promise<string>;
  /**
   * The same without waiting for a copy: the path when the file is in place, else how far
   * the copy (started in the background, one per file) has come; throws when it failed.
   */
  begin?(
    file: IModelFile,
    replica: { endpointId: string; replicaId: string }
  ): Promise<ModelPlacement>;
}

/** Where a model file is, or how far its copy has come (bytes of `of`; null: unknown). */
export type ModelPlacement =
  { path: string } | { copying: { bytes: number; of: number | null } };

/** Resources of one replica (the model's defaults, adjusted within its limits). */
export interface IReplicaResources {
  cpus: number;
  memoryMB: number;
  gpus: number;
  /** The replica's time limit (walltime); the controller hands over before it ends. */
  timeMinutes: number;
}

/** What a provider needs to start one replica. */
export interface IReplicaSpec {
  endpointId: string;
  replicaId: string;
  /** The endpoint's owner: slurm replicas run as this user. */
  owner: string;
  /** Where the model lives (a path on the cluster / the bridge host). */
  modelPath: string;
  /** The recipe rendered to argv, except `{host}`/`{port}`, which only the provider
   *  knows: it substitutes them (see `renderArgv`). */
  argv: readonly string[];
  /** The replica's own key (fresh for every replica); the gateway sends it. The provider
   *  hands it over in the environment variable `keyEnv`, never in an argument. */
  upstreamKey: string;
  /** The recipe's `keyEnv` (e.g. `LLAMA_API_KEY`). */
  keyEnv: string;
  resources: IReplicaResources;
  /** Extra environment of the replica: where its storage tiers are (no credentials). */
  env?: Readonly<Record<string, string>>;
}

/**
 * A provider's reference to a replica, stored by the bridge and passed back to the
 * provider (e.g. `{pid}` for local, `{cluster, slurmId, workdir}` for slurm).
 * JSON-serialisable.
 */
export interface IReplicaHandle {
  provider: string;
  replicaId: string;
  ref: Record<string, string | number>;
}

export type ReplicaStatus =
  | { state: 'pending'; detail?: string }
  | { state: 'running'; host: string; port: number; endsAt: Date | null }
  | { state: 'gone'; reason?: string }
  /** `noCapacity`: the provider cannot place it now (quota, no free GPU); a fallback may. */
  | { state: 'failed'; reason: string; noCapacity?: boolean };

/** `park`: scale to zero — a provider may keep the replica parked (shelved) for a faster wake. */
export interface IStopOptions {
  park?: boolean;
}

/** A replica as the provider sees it (for reconciliation at start). */
export interface IProviderReplica {
  handle: IReplicaHandle;
  endpointId: string;
  owner: string;
  /** Parked (e.g. a shelved cloud server): kept while its endpoint is scaled to zero. */
  parked?: boolean;
}

/**
 * Where replicas run. Implementations: `local` (child processes on the bridge host),
 * `slurm` (one long batch job per replica), `openstack` (a cloud server per replica);
 * Kubernetes would plug in here.
 */
export interface IServingProvider {
  /** Name in `serving.providers` (`local`, `slurm`, …). */
  readonly name: string;
  /** Starts a replica; resolves once it is submitted/spawned (not yet healthy). */
  start(spec: IReplicaSpec): Promise<IReplicaHandle>;
  status(handle: IReplicaHandle): Promise<ReplicaStatus>;
  /**
   * Stops the replica; resolves when it is gone or asked to go. Idempotent. `start`
   * may throw an error with `noCapacity: true` when it cannot place the replica now.
   */
  stop(handle: IReplicaHandle, options?: IStopOptions): Promise<void>;
  /** The bridge's replicas this provider still knows about. */
  list(): Promise<IProviderReplica[]>;
  /**
   * How the replica ended, asked once it stops answering: the provider's word (a job
   * cancelled or out of time) says more than a refused connection. Null while it runs.
   */
  endedReason?(handle: IReplicaHandle): Promise<string | null>;
  /** Extra facts for the create dialog (flavors, quota); never throws. */
  describe?(): Promise<Partial<ServingProviderInfo>>;
}
