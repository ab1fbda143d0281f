import type {
  BridgeEvent,
  ClusterList,
  Health,
  Job,
  JobEstimate,
  JobList,
  JobListQuery,
  JobSubmit,
  NotebookContent,
  ProfileList,
  SshCredential,
  Version,
  Whoami
} from '@hpc-bridge/server/contract';
import { Token } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';
import type { ISignal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';
import type { z } from 'zod';

/**
 * The client of the HPC Bridge service, provided by `jupyterlab-hpc-bridge:core`.
 */
export const IBridgeClient = new Token<IBridgeClient>(
  'jupyterlab-hpc-bridge:IBridgeClient',
  'A client of the HPC Bridge service: finds the bridge, authenticates as the user and validates every response with the shared contract.'
);

/**
 * The HPC Bridge side panel, provided by `jupyterlab-hpc-bridge:panel`.
 */
export const IBridgePanel = new Token<IBridgePanel>(
  'jupyterlab-hpc-bridge:IBridgePanel',
  'The HPC Bridge side panel: other plugins add their sections (Jobs, …) to it.'
);

/**
 * Chooses files and folders of storage tiers, provided by `jupyterlab-hpc-bridge:storage`.
 */
export const ITierFilePicker = new Token<ITierFilePicker>(
  'jupyterlab-hpc-bridge:ITierFilePicker',
  "Chooses a file or folder of a storage tier in JupyterLab's file dialog, through the tier's drive."
);

/**
 * Chooses a file or folder of a storage tier.
 */
export interface ITierFilePicker {
  /**
   * Opens the file dialog in `tier` at the folder of `current` (a path inside
   * the tier); the chosen path inside the tier, or `null` when none was chosen
   * or the tier is unknown. With `folder`, a folder is chosen.
   */
  pick(
    tier: string,
    current: string,
    options?: { folder?: boolean }
  ): Promise<string | null>;
}

/**
 * The HPC Bridge side panel.
 */
export interface IBridgePanel {
  /** The panel's widget id (for `shell.activateById`). */
  readonly id: string;

  /** Add a section; sections are ordered by rank (Cluster: 100, Jobs: 200). */
  addSection(widget: Widget, options?: { rank?: number }): void;
}

/**
 * A client of the HPC Bridge service.
 *
 * Every method resolves with a response validated by the contract, or rejects
 * with a `BridgeRequestError` whose message can be shown to the user as is.
 */
export interface IBridgeClient {
  /**
   * The bridge's base URL (ending with `/`), or `null` when it is unknown:
   * no hub and no `bridgeUrl` setting.
   */
  readonly baseUrl: string | null;

  /**
   * Emitted when the base URL changes, e.g. after the settings changed.
   */
  readonly baseUrlChanged: ISignal<IBridgeClient, string | null>;

  /**
   * Whether the last request reached the bridge.
   */
  readonly connection: Bridge.ConnectionState;

  /**
   * Emitted when `connection` changes.
   */
  readonly connectionChanged: ISignal<IBridgeClient, Bridge.ConnectionState>;

  /** The user the bridge sees. */
  whoami(): Promise<Whoami>;

  /** The bridge's version and contract version. */
  version(): Promise<Version>;

  /** The health of the hub, clusters and storage as the bridge sees them. */
  health(): Promise<Health>;

  /** The clusters with their partitions and free resources. */
  clusters(): Promise<ClusterList>;

  /** The job profiles (admin presets with adjustable ranges). */
  profiles(): Promise<ProfileList>;

  /** Submit a notebook (or some of its cells, or a sweep) as a job. */
  submitJob(request: JobSubmit): Promise<Job>;

  /** When SLURM expects the job to start (`sbatch --test-only`). */
  estimate(request: JobSubmit): Promise<JobEstimate>;

  /** The user's jobs (admins: everyone's with `all: 'true'`). */
  listJobs(query?: JobListQuery): Promise<JobList>;

  /** One job with its elements. */
  getJob(id: string): Promise<Job>;

  /** Cancel, hold, release or resubmit a job; resolves with the job acted on (for `resubmit`: the new job). */
  jobAction(id: string, action: Bridge.JobAction): Promise<Job>;

  /**
   * The job's log: the tail, then (with `follow`) new text as it arrives until
   * the job ends or `signal` aborts.
   */
  logStream(id: string, options?: Bridge.ILogOptions): AsyncIterable<string>;

  /** The executed notebook of a job (element `element` of an array). */
  getOutput(id: string, element?: number): Promise<NotebookContent>;

  /** The user's SSH key for a cluster and how to install it. */
  sshCredential(cluster?: string): Promise<SshCredential>;

  /**
   * A live stream of the user's events (`GET /api/v1/events`), reconnecting
   * with backoff until disposed.
   */
  events(): Bridge.IEventStream;

  /**
   * A JSON request to a bridge route (features without their own method here,
   * e.g. storage), its answer validated with `schema`.
   */
  request<T>(
    method: Bridge.Method,
    route: string,
    schema: z.ZodType<T>,
    options?: Bridge.IRequestOptions
  ): Promise<T>;

  /**
   * A request whose body or answer is not JSON (file bytes): resolves with the
   * response once its headers arrived; errors reject like `request`. No timeout.
   */
  fetchRaw(
    method: Bridge.Method,
    route: string,
    options?: Bridge.IRawRequestOptions
  ): Promise<Response>;

  /**
   * The URL and headers (with the token) of a request sent another way, e.g. an
   * `XMLHttpRequest` upload that reports progress.
   */
  prepare(
    route: string,
    query?: Record<string, string | undefined>
  ): Promise<Bridge.IPreparedRequest>;

  /**
   * Emitted when the cluster refused the user's key (HTTP 412
   * `cluster_auth_failed`), with the key to install.
   */
  readonly clusterAuthFailed: ISignal<IBridgeClient, SshCredential>;
}

/**
 * The bridge client's own types (the request and response types are the
 * contract's, imported from `@hpc-bridge/server/contract`).
 */
export namespace Bridge {
  export type JobAction = 'cancel' | 'hold' | 'release' | 'resubmit';

  export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

  export interface IRequestOptions {
    query?: Record<string, string | undefined>;
    /** Sent as JSON. */
    body?: unknown;
  }

  export interface IRawRequestOptions {
    query?: Record<string, string | undefined>;
    body?: BodyInit;
    headers?: Record<string, string>;
    accept?: string;
    signal?: AbortSignal;
  }

  export interface IPreparedRequest {
    url: string;
    headers: Record<string, string>;
    /** The error to throw for an answer with `status` (0: no answer) and body `text`. */
    error(status: number, text: string): Error;
  }

  export interface ILogOptions {
    stream?: 'stdout' | 'stderr';
    /** Array element; 0 for a job that is not an array. */
    element?: number;
    /** Keep reading until the job ends. */
    follow?: boolean;
    signal?: AbortSignal;
  }

  /**
   * - `connecting`: (re)connecting, possibly after a backoff;
   * - `open`: events arrive;
   * - `closed`: disposed.
   */
  export type EventStreamState = 'connecting' | 'open' | 'closed';

  /** A live event stream; `dispose()` closes it. */
  export interface IEventStream extends IDisposable {
    readonly state: EventStreamState;
    readonly stateChanged: ISignal<IEventStream, EventStreamState>;
    readonly received: ISignal<IEventStream, BridgeEvent>;
    /** The last connection error, or `null` while open. */
    readonly error: Error | null;
    /**
     * Whether the open connection continues the previous one: the bridge
     * replayed every event missed in between, so lists need no reload.
     */
    readonly resumed: boolean;
  }

  /**
   * - `unknown`: no request has completed yet (or the URL just changed);
   * - `connected`: the last request got an answer from the bridge;
   * - `disconnected`: the last request did not reach the bridge.
   */
  export type ConnectionState = 'unknown' | 'connected' | 'disconnected';
}
