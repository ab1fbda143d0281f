import type * as contract from '@hpc-bridge/server/contract';
import type { Bridge } from '../tokens';
import { SectionModel } from '../transport/SectionModel';
import type { IEndpointsApi } from './api';
import type { GatewayChat } from './chat';
import { Snippets } from './snippets';
import { TryItModel } from './TryItModel';

/**
 * The Endpoints section's state: the model catalog, the endpoints the user
 * may see, and for the expanded ones their keys, metrics and the "Try it"
 * chat. The `endpoint` events of the user's stream show the changes of their
 * own endpoints at once; the bridge is polled while the section is visible
 * (for shared endpoints, replicas, and while the stream is down), faster while
 * an endpoint is on its way up and the stream is down. No widget code here.
 */
export class EndpointsModel extends SectionModel {
  constructor(options: EndpointsModel.IOptions) {
    super({
      name: 'EndpointsModel',
      interval: options.pollInterval ?? EndpointsModel.POLL_INTERVAL_MS,
      fastInterval:
        options.fastPollInterval ?? EndpointsModel.FAST_POLL_INTERVAL_MS,
      auto: options.auto
    });
    this._api = options.api;
    this._tryIt = new TryItModel({
      api: this._api,
      fetch: options.chatFetch,
      changed: () => this.emitChanged(),
      afterSend: id => void this._fetchDetails(id)
    });
  }

  /** The admin's catalog, once fetched. */
  get catalog(): contract.ModelCatalog | null {
    return this._catalog;
  }

  /** The user's endpoints and those shared with them, newest first. */
  get endpoints(): readonly contract.Endpoint[] {
    return this._endpoints;
  }

  /** Whether the user's endpoints' changes arrive as events. */
  get live(): boolean {
    return this._stream?.state === 'open';
  }

  endpoint(id: string): contract.Endpoint | null {
    return this._endpoints.find(endpoint => endpoint.id === id) ?? null;
  }

  /** Who the bridge sees, once known. */
  get user(): EndpointsModel.IUser | null {
    return this._user;
  }

  /** Ids of the endpoints whose details are shown. */
  get expanded(): ReadonlySet<string> {
    return this._expanded;
  }

  /** The keys of an endpoint (never the keys themselves: only prefixes). */
  keys(id: string): readonly contract.EndpointKey[] {
    return this._keys.get(id) ?? [];
  }

  metrics(id: string): contract.EndpointMetrics | null {
    return this._metrics.get(id) ?? null;
  }

  /** Why the keys or metrics of an expanded endpoint could not be read. */
  detailError(id: string): string | null {
    return this._detailErrors.get(id) ?? null;
  }

  /** Whether an action (start, stop, delete) on the endpoint is in flight. */
  busy(id: string): boolean {
    return this._busy.has(id);
  }

  /** The "Try it" box of an endpoint. */
  chat(id: string): TryItModel.IChat {
    return this._tryIt.chat(id);
  }

  /** Whether the user owns the endpoint (may act on it, see keys and metrics). */
  isOwner(endpoint: contract.Endpoint): boolean {
    return this._user !== null && endpoint.owner === this._user.name;
  }

  /** The snippets for an endpoint, reading the key from `HPCB_API_KEY`. */
  snippets(endpoint: contract.Endpoint): Snippets.IBoth {
    return Snippets.both({ url: endpoint.url, model: endpoint.model });
  }

  /**
   * Read the catalog again (the cloud's quota changes), keeping the one
   * known when the bridge does not answer; rejects only if none is known.
   */
  async refreshCatalog(): Promise<contract.ModelCatalog> {
    try {
      this._catalog = await this._api.catalog();
      this.emitChanged();
    } catch (error) {
      if (this._catalog === null) {
        throw error;
      }
    }
    return this._catalog;
  }

  /** Open the event stream and start polling (after the app is restored). */
  async start(): Promise<void> {
    if (this._stream === null && !this.isDisposed) {
      this._openStream();
    }
    await super.start();
  }

  protected disposing(): void {
    this._stream?.dispose();
    this._stream = null;
    this._tryIt.dispose();
  }

  /** Show or hide an endpoint's details; showing fetches its keys and metrics. */
  toggle(id: string): void {
    const next = new Set(this._expanded);
    if (next.has(id)) {
      next.delete(id);
    } else {
      next.add(id);
    }
    this._expanded = next;
    this.emitChanged();
    if (next.has(id)) {
      void this._fetchDetails(id);
    }
  }

  /**
   * Create an endpoint; rejects with the bridge's sentence (e.g. a resource
   * out of range). The new endpoint is listed and expanded.
   */
  async create(request: contract.EndpointCreate): Promise<contract.Endpoint> {
    const endpoint = this._upsert(await this._api.create(request));
    this._expanded = new Set([...this._expanded, endpoint.id]);
    this.emitChanged();
    return endpoint;
  }

  /** Start a stopped or failed endpoint again. */
  async startEndpoint(id: string): Promise<contract.Endpoint> {
    return this._upsert(
      await this._act(id, () => this._api.action(id, 'start'))
    );
  }

  /** Stop every replica; requests are refused until it is started again. */
  async stopEndpoint(id: string): Promise<contract.Endpoint> {
    return this._upsert(
      await this._act(id, () => this._api.action(id, 'stop'))
    );
  }

  /** Delete an endpoint (its replicas stop, its keys go with it). */
  async deleteEndpoint(id: string): Promise<void> {
    await this._act(id, () => this._api.remove(id));
    this._forget(id);
    this.emitChanged();
  }

  /**
   * Create a key. The answer holds the key itself: the caller shows it once;
   * the model keeps only what the key list shows (name, prefix, usage).
   */
  async createKey(
    id: string,
    request: contract.EndpointKeyCreate
  ): Promise<contract.EndpointKeyCreated> {
    const created = await this._api.createKey(id, request);
    this._keys.set(id, [
      ...this.keys(id),
      EndpointsModel.withoutSecret(created)
    ]);
    this.emitChanged();
    return created;
  }

  async revokeKey(id: string, keyId: string): Promise<void> {
    const revoked = await this._api.revokeKey(id, keyId);
    this._keys.set(
      id,
      this.keys(id).map(key => (key.id === keyId ? revoked : key))
    );
    this.emitChanged();
  }

  /**
   * Send `prompt` to the endpoint's "Try it" box (see `TryItModel.send`).
   */
  async send(id: string, prompt: string): Promise<void> {
    const endpoint = this.endpoint(id);
    if (endpoint) {
      await this._tryIt.send(endpoint, prompt);
    }
  }

  private async _act<T>(id: string, act: () => Promise<T>): Promise<T> {
    this._busy.add(id);
    this.emitChanged();
    try {
      return await act();
    } finally {
      this._busy.delete(id);
      this.emitChanged();
    }
  }

  /**
   * The user, the catalog (once) and the endpoints; then the keys and metrics
   * of the expanded ones, also when the list could not be read.
   */
  protected async load(): Promise<void> {
    let failure: unknown = null;
    try {
      if (this._user === null) {
        const user = await this._api.whoami();
        this._user = { name: user.name, groups: user.groups };
      }
      if (this._catalog === null) {
        this._catalog = await this._api.catalog();
      }
      const endpoints = await this._api.list();
      this._endpoints = EndpointsModel.sorted(endpoints);
      const ids = new Set(endpoints.map(endpoint => endpoint.id));
      for (const id of [...this._expanded, ...this._keys.keys()]) {
        if (!ids.has(id)) {
          this._forget(id);
        }
      }
    } catch (error) {
      failure = error;
    }
    this.pollFast(this._settling() && !this.live);
    this.emitChanged();
    await Promise.all([...this._expanded].map(id => this._fetchDetails(id)));
    if (failure !== null) {
      throw failure;
    }
  }

  /** Keys and metrics of an endpoint the user owns. */
  private async _fetchDetails(id: string): Promise<void> {
    const endpoint = this.endpoint(id);
    if (!endpoint || !this.isOwner(endpoint)) {
      return;
    }
    try {
      const [keys, metrics] = await Promise.all([
        this._api.keys(id),
        this._api.metrics(id)
      ]);
      if (!this.endpoint(id)) {
        return;
      }
      this._keys.set(id, keys);
      this._metrics.set(id, metrics);
      this._detailErrors.delete(id);
    } catch (error) {
      this._detailErrors.set(
        id,
        error instanceof Error ? error.message : String(error)
      );
    }
    this.emitChanged();
  }

  /** Whether an endpoint is on its way up or down (poll faster). */
  private _settling(): boolean {
    return this._endpoints.some(endpoint =>
      EndpointsModel.isSettling(endpoint.state)
    );
  }

  /** Show a new version of an endpoint; poll fast if it is settling. */
  private _upsert(endpoint: contract.Endpoint): contract.Endpoint {
    const others = this._endpoints.filter(other => other.id !== endpoint.id);
    this._endpoints = EndpointsModel.sorted([...others, endpoint]);
    this.emitChanged();
    if (EndpointsModel.isSettling(endpoint.state) && !this.live) {
      this.pollFast(true);
      if (this.poll.state.phase !== 'constructed') {
        void this.poll.refresh();
      }
    }
    return endpoint;
  }

  private _openStream(): void {
    const stream = this._api.events();
    stream.received.connect(this._onEvent, this);
    stream.stateChanged.connect(this._onStreamState, this);
    this._stream = stream;
  }

  /** A change of one of the user's endpoints; older than the version shown: ignored. */
  private _onEvent(_: Bridge.IEventStream, event: contract.BridgeEvent): void {
    if (event.type !== 'endpoint') {
      return;
    }
    const { endpoint } = event;
    if (event.deleted) {
      this._forget(endpoint.id);
      this.emitChanged();
      return;
    }
    const known = this.endpoint(endpoint.id);
    if (known === null || known.updatedAt <= endpoint.updatedAt) {
      this._upsert(endpoint);
    }
  }

  /** Closed: the shared stream ended (a new bridge URL), open the new one. */
  private _onStreamState(
    _: Bridge.IEventStream,
    state: Bridge.EventStreamState
  ): void {
    if (state === 'closed' && !this.isDisposed) {
      this._openStream();
    }
    this.pollFast(this._settling() && !this.live);
    this.emitChanged();
  }

  private _forget(id: string): void {
    this._endpoints = this._endpoints.filter(endpoint => endpoint.id !== id);
    const expanded = new Set(this._expanded);
    expanded.delete(id);
    this._expanded = expanded;
    this._keys.delete(id);
    this._metrics.delete(id);
    this._detailErrors.delete(id);
    this._tryIt.forget(id);
  }

  private readonly _api: IEndpointsApi;
  private readonly _tryIt: TryItModel;
  private _stream: Bridge.IEventStream | null = null;
  private _catalog: contract.ModelCatalog | null = null;
  private _endpoints: contract.Endpoint[] = [];
  private _user: EndpointsModel.IUser | null = null;
  private _expanded: ReadonlySet<string> = new Set();
  private readonly _keys = new Map<string, contract.EndpointKey[]>();
  private readonly _metrics = new Map<string, contract.EndpointMetrics>();
  private readonly _detailErrors = new Map<string, string>();
  private readonly _busy = new Set<string>();
}

export namespace EndpointsModel {
  export const POLL_INTERVAL_MS = 10_000;
  /** While an endpoint is pending or starting. */
  export const FAST_POLL_INTERVAL_MS = 2_000;

  /** The hub group suffix that marks a course's instructors (bridge default). */
  export const INSTRUCTOR_SUFFIX = '-instructors';

  export interface IOptions {
    api: IEndpointsApi;
    pollInterval?: number;
    fastPollInterval?: number;
    /** Start polling at once (default: wait for `start()`). */
    auto?: boolean;
    /** The `fetch` of the "Try it" box (tests). */
    chatFetch?: GatewayChat.FetchFunction;
  }

  export interface IUser {
    name: string;
    groups: string[];
  }

  /** What the key list holds of a new key: everything but the key. */
  export function withoutSecret(
    created: contract.EndpointKeyCreated
  ): contract.EndpointKey {
    return {
      id: created.id,
      name: created.name,
      prefix: created.prefix,
      requestsPerMinute: created.requestsPerMinute,
      tokenBudget: created.tokenBudget,
      tokensUsed: created.tokensUsed,
      requests: created.requests,
      createdAt: created.createdAt,
      lastUsedAt: created.lastUsedAt,
      revokedAt: created.revokedAt
    };
  }

  /**
   * Pending or starting (no replica serves yet, but one is on its way), or stopping (its
   * replicas are being stopped): the state changes soon.
   */
  export function isSettling(state: contract.EndpointState): boolean {
    return state === 'pending' || state === 'starting' || state === 'stopping';
  }

  /** Whether a request through the gateway is answered (or held until woken). */
  export function isServing(state: contract.EndpointState): boolean {
    return state === 'ready' || state === 'idle' || state === 'scaled-to-zero';
  }

  /** What the owner may do to an endpoint in `state`. */
  export function actions(state: contract.EndpointState): {
    start: boolean;
    stop: boolean;
  } {
    return {
      start: state === 'stopped' || state === 'failed',
      stop: state !== 'stopped' && state !== 'stopping'
    };
  }

  /** Newest first, then by name. */
  export function sorted(
    endpoints: readonly contract.Endpoint[]
  ): contract.Endpoint[] {
    return [...endpoints].sort(
      (a, b) =>
        b.createdAt.localeCompare(a.createdAt) || a.name.localeCompare(b.name)
    );
  }

  /** The courses a user teaches, from the `<course>-instructors` groups. */
  export function courses(groups: readonly string[]): string[] {
    return groups
      .filter(
        group =>
          group.length > INSTRUCTOR_SUFFIX.length &&
          group.endsWith(INSTRUCTOR_SUFFIX)
      )
      .map(group => group.slice(0, -INSTRUCTOR_SUFFIX.length));
  }

  /**
   * What the metrics table shows: requests in the minute in progress, p50/p95
   * of the latest minute with requests, and the 15 minutes' totals.
   */
  export function summary(metrics: contract.EndpointMetrics): IMetricsSummary {
    const points = metrics.points;
    const latest = [...points].reverse().find(point => point.requests > 0);
    return {
      requestsPerMinute: points[points.length - 1]?.requests ?? 0,
      p50Ms: latest?.p50Ms ?? null,
      p95Ms: latest?.p95Ms ?? null,
      tokens: metrics.totals.promptTokens + metrics.totals.completionTokens,
      requests: metrics.totals.requests,
      errors: metrics.totals.errors,
      series: points.map(point => point.requests)
    };
  }

  export interface IMetricsSummary {
    requestsPerMinute: number;
    p50Ms: number | null;
    p95Ms: number | null;
    tokens: number;
    requests: number;
    errors: number;
    /** Requests per minute, oldest first (the sparkline). */
    series: number[];
  }
}
