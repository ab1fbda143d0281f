import { Routes, type SshCredential } from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';
import type { z } from 'zod';
import type { Bridge } from '../tokens';
import {
  BridgeRequestError,
  describeIssues,
  fetchError,
  httpError,
  parseJson
} from './errors';
import { EventStream } from './events';
import { SharedEventStream } from './sharedEvents';

/**
 * The transport of `IBridgeClient`: plain `fetch` with the user's hub token, the
 * connection state, errors as sentences and the event stream. `TSender` is
 * what its signals name as their sender (the client built on it).
 *
 * `ServerConnection.makeRequest` is not used on purpose: it refuses URLs
 * outside the user's own server, and the bridge is a hub service.
 */
export class BridgeTransport<TSender = unknown> {
  constructor(options: BridgeTransport.IOptions) {
    this._baseUrl = options.baseUrl;
    this._getToken = options.getToken;
    this._trans = options.trans;
    this._fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this._timeoutMs = options.timeoutMs ?? BridgeTransport.DEFAULT_TIMEOUT_MS;
    this._eventOptions = options.eventStream ?? {};
    this._ready = (options.ready ?? Promise.resolve()).then(
      () => undefined,
      () => undefined
    );
  }

  get baseUrl(): string | null {
    return this._baseUrl;
  }

  get baseUrlChanged(): ISignal<TSender, string | null> {
    return this._baseUrlChanged;
  }

  get connection(): Bridge.ConnectionState {
    return this._connection;
  }

  get connectionChanged(): ISignal<TSender, Bridge.ConnectionState> {
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
    // The stream of the old bridge ends; its users acquire one of the new bridge.
    this._events.close();
    this._baseUrlChanged.emit(options.baseUrl);
  }

  get clusterAuthFailed(): ISignal<TSender, SshCredential> {
    return this._clusterAuthFailed;
  }

  async request<T>(
    method: Bridge.Method,
    route: string,
    schema: z.ZodType<T>,
    options: Bridge.IRequestOptions = {}
  ): Promise<T> {
    const hasBody = options.body !== undefined;
    try {
      return await this._send(
        method,
        route,
        {
          query: options.query,
          accept: 'application/json',
          json: hasBody,
          body: hasBody ? JSON.stringify(options.body) : undefined,
          timed: true,
          readText: true
        },
        (answer, url, base) => this._parse(schema, answer, url, base)
      );
    } catch (error) {
      if (
        error instanceof BridgeRequestError &&
        error.reason === 'unconfigured'
      ) {
        this._setConnection('disconnected');
      }
      throw error;
    }
  }

  fetchRaw(
    method: Bridge.Method,
    route: string,
    options: Bridge.IRawRequestOptions = {}
  ): Promise<Response> {
    return this._send(
      method,
      route,
      {
        query: options.query,
        accept: options.accept ?? '*/*',
        headers: options.headers,
        body: options.body,
        signal: options.signal,
        timed: false
      },
      answer => answer.response
    );
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
          ? fetchError(this._trans, url, base, false, this._timeoutMs)
          : this._httpError(url, base, status, text)
    };
  }

  /** A handle on the one event stream the models share. */
  events(): Bridge.IEventStream {
    return this._events.acquire();
  }

  /**
   * Open a streaming GET (log, events): resolves with the response once its
   * headers arrived; rejects like the other requests on errors.
   */
  open(
    route: string,
    options: {
      query?: Record<string, string>;
      accept: string;
      headers?: Record<string, string>;
      signal?: AbortSignal;
    }
  ): Promise<Response> {
    return this._send(
      'GET',
      route,
      { ...options, timed: true },
      answer => answer.response
    );
  }

  /**
   * Sends one request with the user's token and tells the connection state.
   * A `timed` request is aborted after the timeout (or with its `signal`),
   * its text (`readText`) read within it. A bridge out of reach or an error
   * status rejects with the sentence; else `finish` makes the result.
   */
  private async _send<T>(
    method: Bridge.Method,
    route: string,
    request: BridgeTransport.ISendRequest,
    finish: (
      answer: { response: Response; text: string },
      url: string,
      base: string
    ) => T
  ): Promise<T> {
    await this._ready;
    const { url, base } = this._url(route, request.query);
    const controller = request.timed ? new AbortController() : null;
    const abort = () => controller?.abort();
    if (controller) {
      request.signal?.addEventListener('abort', abort);
    }
    const timer = controller ? setTimeout(abort, this._timeoutMs) : undefined;
    let response: Response;
    let text = '';
    try {
      response = await this._fetch(url, {
        method,
        headers: {
          ...this._headers(request.accept, request.json),
          ...request.headers
        },
        body: request.body,
        cache: 'no-store',
        signal: controller?.signal ?? request.signal
      });
      if (request.readText) {
        text = await response.text();
      }
    } catch (error) {
      if (request.signal?.aborted) {
        // The caller gave up (a newer completion, Stop): the bridge is not at fault.
        throw error;
      }
      this._setConnection('disconnected');
      throw fetchError(
        this._trans,
        url,
        base,
        controller?.signal.aborted ?? false,
        this._timeoutMs
      );
    } finally {
      clearTimeout(timer);
    }
    try {
      if (!response.ok) {
        if (!request.readText) {
          text = await response.text().catch(() => '');
        }
        throw this._httpError(url, base, response.status, text);
      }
      const result = finish({ response, text }, url, base);
      this._setConnection('connected');
      if (request.signal?.aborted) {
        abort();
      }
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

  /** `httpError`, telling `clusterAuthFailed` about a refused key. */
  private _httpError(
    url: string,
    base: string,
    status: number,
    text: string
  ): BridgeRequestError {
    const error = httpError(this._trans, url, base, status, text);
    const credential = error.credential;
    if (credential) {
      this._clusterAuthFailed.emit(credential);
    }
    return error;
  }

  /** The answer's JSON, validated by `schema`. */
  private _parse<T>(
    schema: z.ZodType<T>,
    answer: { response: Response; text: string },
    url: string,
    base: string
  ): T {
    const parsed = schema.safeParse(parseJson(answer.text));
    if (!parsed.success) {
      throw new BridgeRequestError({
        reason: 'invalid-response',
        url,
        status: answer.response.status,
        message: this._trans.__(
          'The HPC Bridge at %1 sent an answer this extension does not understand (%2). The bridge and the extension versions may not match.',
          base,
          describeIssues(parsed.error)
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

  /** This transport as its signals' sender. */
  private get sender(): TSender {
    return this as unknown as TSender;
  }

  private _baseUrl: string | null;
  private _connection: Bridge.ConnectionState = 'unknown';
  private readonly _getToken: () => string;
  private readonly _trans: TranslationBundle;
  private readonly _fetch: BridgeTransport.FetchFunction;
  private readonly _ready: Promise<void>;
  private _timeoutMs: number;
  private readonly _baseUrlChanged = new Signal<TSender, string | null>(
    this.sender
  );
  private readonly _connectionChanged = new Signal<
    TSender,
    Bridge.ConnectionState
  >(this.sender);
  private readonly _clusterAuthFailed = new Signal<TSender, SshCredential>(
    this.sender
  );
  private readonly _eventOptions: Partial<EventStream.IOptions>;
  private readonly _events = new SharedEventStream(
    () =>
      new EventStream({
        open: (signal, lastEventId) =>
          this.open(Routes.events, {
            accept: 'text/event-stream',
            signal,
            ...(lastEventId === null
              ? {}
              : { headers: { 'Last-Event-ID': lastEventId } })
          }),
        ...this._eventOptions
      })
  );
}

export namespace BridgeTransport {
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

  /** One request of `BridgeTransport`. */
  export interface ISendRequest {
    query?: Record<string, string | undefined>;
    accept: string;
    /** The body is JSON. */
    json?: boolean;
    headers?: Record<string, string>;
    body?: BodyInit;
    signal?: AbortSignal;
    /** Abort after the timeout (else only with `signal`). */
    timed: boolean;
    /** Read the answer's text within the timeout. */
    readText?: boolean;
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
