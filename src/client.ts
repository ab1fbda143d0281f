import {
  ClusterListSchema,
  ErrorBodySchema,
  HealthSchema,
  JobEstimateSchema,
  JobListSchema,
  JobSchema,
  NotebookContentSchema,
  ProfileListSchema,
  Routes,
  SshCredentialSchema,
  VersionSchema,
  WhoamiSchema
} from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';
import type { z } from 'zod';
import { EventStream } from './events';
import type { Bridge, IBridgeClient } from './tokens';

/**
 * An error of a request to the bridge. Its message is a sentence for the user.
 */
export class BridgeRequestError extends Error {
  constructor(options: BridgeRequestError.IOptions) {
    super(options.message);
    this.name = 'BridgeRequestError';
    this.reason = options.reason;
    this.url = options.url;
    this.status = options.status ?? 0;
    this.body = options.body ?? null;
  }

  /** Why the request failed. */
  readonly reason: BridgeRequestError.Reason;

  /** The URL requested, or `null` when the bridge URL is unknown. */
  readonly url: string | null;

  /** The HTTP status, or 0 when there was no HTTP answer. */
  readonly status: number;

  /** The bridge's error body, when the bridge itself answered with an error. */
  readonly body: Bridge.ErrorBody | null;

  /** The bridge's error code, when the bridge itself answered with an error. */
  get code(): Bridge.ErrorCode | null {
    return this.body?.error.code ?? null;
  }

  /**
   * The key to install when the cluster refused the user's key (HTTP 412
   * `cluster_auth_failed`), else `null`.
   */
  get credential(): Bridge.SshCredential | null {
    if (this.code !== 'cluster_auth_failed') {
      return null;
    }
    const parsed = SshCredentialSchema.safeParse(this.body?.error.details);
    return parsed.success ? parsed.data : null;
  }
}

export namespace BridgeRequestError {
  /**
   * - `unconfigured`: the bridge URL is unknown (no hub, no setting);
   * - `network`: no HTTP answer (connection refused, DNS, CORS);
   * - `timeout`: no answer in time;
   * - `missing`: 404 from something that is not the bridge (not installed);
   * - `unavailable`: 502/503/504 from a proxy (the bridge is not running);
   * - `http`: the bridge answered with an error body;
   * - `invalid-response`: an answer that does not follow the contract.
   */
  export type Reason =
    | 'unconfigured'
    | 'network'
    | 'timeout'
    | 'missing'
    | 'unavailable'
    | 'http'
    | 'invalid-response';

  export interface IOptions {
    reason: Reason;
    message: string;
    url: string | null;
    status?: number;
    body?: Bridge.ErrorBody | null;
  }
}

/**
 * The default `IBridgeClient`: plain `fetch` with the user's hub token.
 *
 * `ServerConnection.makeRequest` is not used on purpose: it refuses URLs
 * outside the user's own server, and the bridge is a hub service.
 */
export class BridgeClient implements IBridgeClient {
  constructor(options: BridgeClient.IOptions) {
    this._baseUrl = options.baseUrl;
    this._getToken = options.getToken;
    this._trans = options.trans;
    this._fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this._timeoutMs = options.timeoutMs ?? BridgeClient.DEFAULT_TIMEOUT_MS;
    this._eventOptions = options.eventStream ?? {};
    this._ready = (options.ready ?? Promise.resolve()).then(
      () => undefined,
      () => undefined
    );
  }

  get baseUrl(): string | null {
    return this._baseUrl;
  }

  get baseUrlChanged(): ISignal<IBridgeClient, string | null> {
    return this._baseUrlChanged;
  }

  get connection(): Bridge.ConnectionState {
    return this._connection;
  }

  get connectionChanged(): ISignal<IBridgeClient, Bridge.ConnectionState> {
    return this._connectionChanged;
  }

  /**
   * Change the bridge URL and the request timeout (from the settings).
   */
  configure(options: { baseUrl: string | null; timeoutMs?: number }): void {
    if (options.timeoutMs !== undefined) {
      this._timeoutMs = options.timeoutMs;
    }
    if (options.baseUrl === this._baseUrl) {
      return;
    }
    this._baseUrl = options.baseUrl;
    this._setConnection('unknown');
    this._baseUrlChanged.emit(options.baseUrl);
  }

  whoami(): Promise<Bridge.Whoami> {
    return this._get(Routes.whoami, WhoamiSchema);
  }

  version(): Promise<Bridge.Version> {
    return this._get(Routes.version, VersionSchema);
  }

  health(): Promise<Bridge.Health> {
    return this._get(Routes.health, HealthSchema);
  }

  clusters(): Promise<Bridge.ClusterList> {
    return this._get(Routes.clusters, ClusterListSchema);
  }

  get clusterAuthFailed(): ISignal<IBridgeClient, Bridge.SshCredential> {
    return this._clusterAuthFailed;
  }

  profiles(): Promise<Bridge.ProfileList> {
    return this._get(Routes.profiles, ProfileListSchema);
  }

  submitJob(request: Bridge.JobSubmit): Promise<Bridge.Job> {
    return this._call('POST', Routes.jobs, JobSchema, { body: request });
  }

  estimate(request: Bridge.JobSubmit): Promise<Bridge.JobEstimate> {
    return this._call('POST', Routes.jobsEstimate, JobEstimateSchema, {
      body: request
    });
  }

  listJobs(query: Bridge.JobListQuery = {}): Promise<Bridge.JobList> {
    return this._call('GET', Routes.jobs, JobListSchema, {
      query: { ...query }
    });
  }

  getJob(id: string): Promise<Bridge.Job> {
    return this._get(Routes.job(id), JobSchema);
  }

  jobAction(id: string, action: Bridge.JobAction): Promise<Bridge.Job> {
    return this._call('POST', Routes.jobAction(id, action), JobSchema, {
      body: {}
    });
  }

  getOutput(id: string, element = 0): Promise<Bridge.NotebookContent> {
    return this._call('GET', Routes.jobOutput(id), NotebookContentSchema, {
      query: { element: String(element) }
    });
  }

  sshCredential(cluster?: string): Promise<Bridge.SshCredential> {
    return this._call('GET', Routes.sshCredential, SshCredentialSchema, {
      query: cluster ? { cluster } : {}
    });
  }

  async *logStream(
    id: string,
    options: Bridge.ILogOptions = {}
  ): AsyncGenerator<string, void, undefined> {
    const response = await this.open(Routes.jobLog(id), {
      query: {
        stream: options.stream ?? 'stdout',
        element: String(options.element ?? 0),
        ...(options.follow ? { follow: '1' } : {})
      },
      accept: 'text/plain',
      signal: options.signal
    });
    const body = response.body;
    if (!body) {
      const text = await response.text();
      if (text) {
        yield text;
      }
      return;
    }
    const reader = body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          break;
        }
        const text = decoder.decode(value, { stream: true });
        if (text) {
          yield text;
        }
      }
      const rest = decoder.decode();
      if (rest) {
        yield rest;
      }
    } finally {
      reader.releaseLock();
    }
  }

  request<T>(
    method: Bridge.Method,
    route: string,
    schema: z.ZodType<T>,
    options: Bridge.IRequestOptions = {}
  ): Promise<T> {
    return this._call(method, route, schema, options);
  }

  async fetchRaw(
    method: Bridge.Method,
    route: string,
    options: Bridge.IRawRequestOptions = {}
  ): Promise<Response> {
    await this._ready;
    const { url, base } = this._url(route, options.query);
    let response: Response;
    try {
      response = await this._fetch(url, {
        method,
        headers: {
          ...this._headers(options.accept ?? '*/*'),
          ...options.headers
        },
        body: options.body,
        cache: 'no-store',
        signal: options.signal
      });
    } catch (error) {
      this._setConnection('disconnected');
      throw this._fetchError(url, base, false);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      const error = this._httpError(url, base, response.status, text);
      this._setConnection(
        error.reason === 'http' ? 'connected' : 'disconnected'
      );
      throw error;
    }
    this._setConnection('connected');
    return response;
  }

  async prepare(
    route: string,
    query: Record<string, string | undefined> = {}
  ): Promise<Bridge.IPreparedRequest> {
    await this._ready;
    const { url, base } = this._url(route, query);
    const headers = this._headers('application/json');
    return {
      url,
      headers,
      error: (status: number, text: string) =>
        status === 0
          ? this._fetchError(url, base, false)
          : this._httpError(url, base, status, text)
    };
  }

  events(): Bridge.IEventStream {
    return new EventStream({
      open: signal =>
        this.open(Routes.events, { accept: 'text/event-stream', signal }),
      ...this._eventOptions
    });
  }

  /**
   * Open a streaming GET (log, events): resolves with the response once its
   * headers arrived; rejects like the other requests on errors.
   */
  async open(
    route: string,
    options: {
      query?: Record<string, string>;
      accept: string;
      signal?: AbortSignal;
    }
  ): Promise<Response> {
    await this._ready;
    const { url, base } = this._url(route, options.query);
    const controller = new AbortController();
    const abort = () => controller.abort();
    options.signal?.addEventListener('abort', abort);
    const timer = setTimeout(abort, this._timeoutMs);
    let response: Response;
    try {
      response = await this._fetch(url, {
        headers: this._headers(options.accept),
        cache: 'no-store',
        signal: controller.signal
      });
    } catch (error) {
      this._setConnection('disconnected');
      throw this._fetchError(url, base, controller.signal.aborted);
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      const error = this._httpError(url, base, response.status, text);
      this._setConnection(
        error.reason === 'http' ? 'connected' : 'disconnected'
      );
      throw error;
    }
    this._setConnection('connected');
    if (options.signal?.aborted) {
      controller.abort();
    }
    return response;
  }

  private _get<T>(route: string, schema: z.ZodType<T>): Promise<T> {
    return this._call('GET', route, schema, {});
  }

  private async _call<T>(
    method: Bridge.Method,
    route: string,
    schema: z.ZodType<T>,
    options: { query?: Record<string, string | undefined>; body?: unknown }
  ): Promise<T> {
    await this._ready;
    try {
      const result = await this._request(method, route, schema, options);
      this._setConnection('connected');
      return result;
    } catch (error) {
      const reached =
        error instanceof BridgeRequestError && error.reason === 'http';
      this._setConnection(reached ? 'connected' : 'disconnected');
      throw error;
    }
  }

  private _url(
    route: string,
    query: Record<string, string | undefined> = {}
  ): { url: string; base: string } {
    const base = this._baseUrl;
    if (base === null) {
      throw new BridgeRequestError({
        reason: 'unconfigured',
        url: null,
        message: this._trans.__(
          'The HPC Bridge URL is unknown: this JupyterLab does not run under JupyterHub. Set "Bridge URL" in Settings → Settings Editor → HPC Bridge.'
        )
      });
    }
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== '') {
        params.set(key, value);
      }
    }
    const search = params.toString();
    return {
      url: base + route.replace(/^\//, '') + (search ? `?${search}` : ''),
      base
    };
  }

  private _headers(accept: string, json = false): Record<string, string> {
    const headers: Record<string, string> = { Accept: accept };
    if (json) {
      headers['Content-Type'] = 'application/json';
    }
    const token = this._getToken();
    if (token) {
      headers['Authorization'] = `token ${token}`;
    }
    return headers;
  }

  private _fetchError(
    url: string,
    base: string,
    timedOut: boolean
  ): BridgeRequestError {
    const trans = this._trans;
    return new BridgeRequestError({
      reason: timedOut ? 'timeout' : 'network',
      url,
      message: timedOut
        ? trans.__(
            'The HPC Bridge at %1 did not answer within %2 seconds. Check the bridge and the cluster it talks to.',
            base,
            String(Math.round(this._timeoutMs / 1000))
          )
        : trans.__(
            'Cannot reach the HPC Bridge at %1. Check that the hpc-bridge service is running and registered in JupyterHub (c.JupyterHub.services), or set "Bridge URL" in the settings.',
            base
          )
    });
  }

  private _httpError(
    url: string,
    base: string,
    status: number,
    text: string
  ): BridgeRequestError {
    const trans = this._trans;
    const body = ErrorBodySchema.safeParse(Private.parseJson(text));
    if (body.success) {
      const error = new BridgeRequestError({
        reason: 'http',
        url,
        status,
        body: body.data,
        message: body.data.error.message
      });
      const credential = error.credential;
      if (credential) {
        this._clusterAuthFailed.emit(credential);
      }
      return error;
    }
    if (status === 404) {
      return new BridgeRequestError({
        reason: 'missing',
        url,
        status: 404,
        message: trans.__(
          'No HPC Bridge answers at %1 (HTTP 404). Install the bridge (server-bridge) and register it as the JupyterHub service "hpc-bridge", or set "Bridge URL" in the settings.',
          base
        )
      });
    }
    if ([502, 503, 504].includes(status)) {
      return new BridgeRequestError({
        reason: 'unavailable',
        url,
        status,
        message: trans.__(
          'The HPC Bridge at %1 is not running (HTTP %2 from the proxy). Ask your administrator to check the hpc-bridge service and its log.',
          base,
          String(status)
        )
      });
    }
    return new BridgeRequestError({
      reason: 'invalid-response',
      url,
      status,
      message: trans.__(
        'The HPC Bridge at %1 answered HTTP %2 without an error description.',
        base,
        String(status)
      )
    });
  }

  private async _request<T>(
    method: Bridge.Method,
    route: string,
    schema: z.ZodType<T>,
    options: { query?: Record<string, string | undefined>; body?: unknown }
  ): Promise<T> {
    const { url, base } = this._url(route, options.query);
    const hasBody = options.body !== undefined;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this._timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await this._fetch(url, {
        method,
        headers: this._headers('application/json', hasBody),
        body: hasBody ? JSON.stringify(options.body) : undefined,
        cache: 'no-store',
        signal: controller.signal
      });
      text = await response.text();
    } catch (error) {
      throw this._fetchError(url, base, controller.signal.aborted);
    } finally {
      clearTimeout(timer);
    }

    if (!response.ok) {
      throw this._httpError(url, base, response.status, text);
    }

    const parsed = schema.safeParse(Private.parseJson(text));
    if (!parsed.success) {
      throw new BridgeRequestError({
        reason: 'invalid-response',
        url,
        status: response.status,
        message: this._trans.__(
          'The HPC Bridge at %1 sent an answer this extension does not understand (%2). The bridge and the extension versions may not match.',
          base,
          Private.describeIssues(parsed.error)
        )
      });
    }
    return parsed.data;
  }

  private _setConnection(state: Bridge.ConnectionState): void {
    if (state === this._connection) {
      return;
    }
    this._connection = state;
    this._connectionChanged.emit(state);
  }

  private _baseUrl: string | null;
  private _connection: Bridge.ConnectionState = 'unknown';
  private readonly _getToken: () => string;
  private readonly _trans: TranslationBundle;
  private readonly _fetch: BridgeClient.FetchFunction;
  private readonly _ready: Promise<void>;
  private _timeoutMs: number;
  private readonly _baseUrlChanged = new Signal<IBridgeClient, string | null>(
    this
  );
  private readonly _connectionChanged = new Signal<
    IBridgeClient,
    Bridge.ConnectionState
  >(this);
  private readonly _clusterAuthFailed = new Signal<
    IBridgeClient,
    Bridge.SshCredential
  >(this);
  private readonly _eventOptions: Partial<EventStream.IOptions>;
}

export namespace BridgeClient {
  export const DEFAULT_TIMEOUT_MS = 30_000;

  /** The hub service name of the bridge. */
  export const SERVICE_NAME = 'hpc-bridge';

  export type FetchFunction = (
    input: string,
    init: RequestInit
  ) => Promise<Response>;

  export interface IOptions {
    /** The bridge's base URL ending with `/`, or `null` when unknown. */
    baseUrl: string | null;
    /** Returns the user's hub token (`PageConfig.getToken()`). */
    getToken: () => string;
    trans: TranslationBundle;
    /** Requests wait for it (e.g. the settings); its failure is ignored. */
    ready?: Promise<unknown>;
    timeoutMs?: number;
    /** Defaults to the global `fetch`. */
    fetch?: FetchFunction;
    /** Reconnection timing of `events()` (tests). */
    eventStream?: Partial<Omit<EventStream.IOptions, 'open'>>;
  }

  export interface IResolveOptions {
    /** The `bridgeUrl` setting; wins when not empty. */
    setting?: string | null;
    /** Page config `hubHost` (empty unless the hub uses subdomains). */
    hubHost?: string;
    /** Page config `hubPrefix`, e.g. `/hub/`; empty without a hub. */
    hubPrefix?: string;
  }

  /**
   * Find the bridge: the `bridgeUrl` setting, else the hub's
   * `/services/hpc-bridge/` next to `hubPrefix`, else `null`.
   */
  export function resolveBaseUrl(options: IResolveOptions): string | null {
    const setting = options.setting?.trim() ?? '';
    if (setting) {
      return setting.endsWith('/') ? setting : `${setting}/`;
    }
    const prefix = options.hubPrefix?.trim() ?? '';
    if (!prefix) {
      return null;
    }
    const root = prefix.replace(/\/+$/, '').replace(/\/hub$/, '');
    return `${options.hubHost ?? ''}${root}/services/${SERVICE_NAME}/`;
  }
}

namespace Private {
  export function parseJson(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  }

  export function describeIssues(error: z.ZodError): string {
    return error.issues
      .slice(0, 3)
      .map(issue => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
  }
}
