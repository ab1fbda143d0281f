import {
  ClusterListSchema,
  ErrorBodySchema,
  HealthSchema,
  Routes,
  VersionSchema,
  WhoamiSchema
} from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';
import type { z } from 'zod';
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

  private async _get<T>(route: string, schema: z.ZodType<T>): Promise<T> {
    await this._ready;
    try {
      const result = await this._request(route, schema);
      this._setConnection('connected');
      return result;
    } catch (error) {
      const reached =
        error instanceof BridgeRequestError && error.reason === 'http';
      this._setConnection(reached ? 'connected' : 'disconnected');
      throw error;
    }
  }

  private async _request<T>(route: string, schema: z.ZodType<T>): Promise<T> {
    const trans = this._trans;
    const base = this._baseUrl;
    if (base === null) {
      throw new BridgeRequestError({
        reason: 'unconfigured',
        url: null,
        message: trans.__(
          'The HPC Bridge URL is unknown: this JupyterLab does not run under JupyterHub. Set "Bridge URL" in Settings → Settings Editor → HPC Bridge.'
        )
      });
    }
    const url = base + route.replace(/^\//, '');
    const headers: Record<string, string> = { Accept: 'application/json' };
    const token = this._getToken();
    if (token) {
      headers['Authorization'] = `token ${token}`;
    }

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this._timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await this._fetch(url, {
        headers,
        cache: 'no-store',
        signal: controller.signal
      });
      text = await response.text();
    } catch (error) {
      const timedOut = controller.signal.aborted;
      throw new BridgeRequestError({
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
    } finally {
      clearTimeout(timer);
    }

    const json = Private.parseJson(text);
    if (!response.ok) {
      const body = ErrorBodySchema.safeParse(json);
      if (body.success) {
        throw new BridgeRequestError({
          reason: 'http',
          url,
          status: response.status,
          body: body.data,
          message: body.data.error.message
        });
      }
      if (response.status === 404) {
        throw new BridgeRequestError({
          reason: 'missing',
          url,
          status: 404,
          message: trans.__(
            'No HPC Bridge answers at %1 (HTTP 404). Install the bridge (server-bridge) and register it as the JupyterHub service "hpc-bridge", or set "Bridge URL" in the settings.',
            base
          )
        });
      }
      if ([502, 503, 504].includes(response.status)) {
        throw new BridgeRequestError({
          reason: 'unavailable',
          url,
          status: response.status,
          message: trans.__(
            'The HPC Bridge at %1 is not running (HTTP %2 from the proxy). Ask your administrator to check the hpc-bridge service and its log.',
            base,
            String(response.status)
          )
        });
      }
      throw new BridgeRequestError({
        reason: 'invalid-response',
        url,
        status: response.status,
        message: trans.__(
          'The HPC Bridge at %1 answered HTTP %2 without an error description.',
          base,
          String(response.status)
        )
      });
    }

    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new BridgeRequestError({
        reason: 'invalid-response',
        url,
        status: response.status,
        message: trans.__(
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
