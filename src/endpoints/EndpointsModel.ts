import type * as contract from '@hpc-bridge/server/contract';
import type { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';
import type { IEndpointsApi } from './api';
import type { GatewayChat } from './chat';
import { Snippets } from './snippets';
import { TryItModel } from './TryItModel';

/**
 * The Endpoints section's state: the model catalog, the endpoints the user
 * may see, and for the expanded ones their keys, metrics and the "Try it"
 * chat. Polls the bridge while the section is visible, faster while an
 * endpoint is on its way up. No widget code here.
 */
export class EndpointsModel implements IDisposable {
  constructor(options: EndpointsModel.IOptions) {
    this._api = options.api;
    this._interval = options.pollInterval ?? EndpointsModel.POLL_INTERVAL_MS;
    this._fastInterval =
      options.fastPollInterval ?? EndpointsModel.FAST_POLL_INTERVAL_MS;
    this._tryIt = new TryItModel({
      api: this._api,
      fetch: options.chatFetch,
      changed: () => this._emit(),
      afterSend: id => void this._fetchDetails(id)
    });
    this._poll = new Poll({
      auto: false,
      factory: () => this._fetch(),
      frequency: this._frequency(false),
      name: 'jupyterlab-hpc-bridge:EndpointsModel',
      standby: () => !this._visible || 'when-hidden'
    });
    if (options.auto ?? false) {
      this.start();
    }
  }

  /** The admin's catalog, once fetched. */
  get catalog(): contract.ModelCatalog | null {
    return this._catalog;
  }

  /** The user's endpoints and those shared with them, newest first. */
  get endpoints(): readonly contract.Endpoint[] {
    return this._endpoints;
  }

  endpoint(id: string): contract.Endpoint | null {
    return this._endpoints.find(endpoint => endpoint.id === id) ?? null;
  }

  /** Who the bridge sees, once known. */
  get user(): EndpointsModel.IUser | null {
    return this._user;
  }

  /** The error of the last refresh, or `null`. */
  get error(): Error | null {
    return this._error;
  }

  /** Whether no refresh has completed yet. */
  get loading(): boolean {
    return this._loading;
  }

  /** Ids of the endpoints whose details are shown. */
  get expanded(): ReadonlySet<string> {
    return this._expanded;
  }

  /** Whether the section is on screen (the model polls only then). */
  get visible(): boolean {
    return this._visible;
  }

  set visible(visible: boolean) {
    if (visible === this._visible) {
      return;
    }
    this._visible = visible;
    if (visible && this._poll.state.phase !== 'constructed') {
      void this._poll.refresh();
    }
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

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Start polling (after the app is restored). */
  start(): void {
    void this._poll.start();
  }

  /**
   * Read the catalog again (the cloud's quota changes), keeping the one
   * known when the bridge does not answer; rejects only if none is known.
   */
  async refreshCatalog(): Promise<contract.ModelCatalog> {
    try {
      this._catalog = await this._api.catalog();
      this._emit();
    } catch (error) {
      if (this._catalog === null) {
        throw error;
      }
    }
    return this._catalog;
  }

  /** Fetch everything now. */
  async refresh(): Promise<void> {
    if (this._poll.state.phase === 'constructed') {
      await this._fetch().catch(() => undefined);
      return;
    }
    await this._poll.refresh();
    await this._poll.tick.catch(() => undefined);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._tryIt.dispose();
    this._poll.dispose();
    Signal.clearData(this);
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
    this._emit();
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
    this._emit();
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
    this._emit();
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
    this._emit();
    return created;
  }

  async revokeKey(id: string, keyId: string): Promise<void> {
    const revoked = await this._api.revokeKey(id, keyId);
    this._keys.set(
      id,
      this.keys(id).map(key => (key.id === keyId ? revoked : key))
    );
    this._emit();
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
    this._emit();
    try {
      return await act();
    } finally {
      this._busy.delete(id);
      this._emit();
    }
  }

  private async _fetch(): Promise<void> {
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
      this._error = null;
    } catch (error) {
      this._error = error instanceof Error ? error : new Error(String(error));
    }
    this._loading = false;
    this._poll.frequency = this._frequency(this._settling());
    this._emit();
    await Promise.all([...this._expanded].map(id => this._fetchDetails(id)));
    if (this._error) {
      throw this._error;
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
    this._emit();
  }

  /** Whether an endpoint is on its way up (poll faster). */
  private _settling(): boolean {
    return this._endpoints.some(endpoint =>
      EndpointsModel.isSettling(endpoint.state)
    );
  }

  private _frequency(fast: boolean) {
    return {
      interval: fast ? this._fastInterval : this._interval,
      backoff: true,
      max: this._interval * 6
    };
  }

  /** Show a new version of an endpoint; poll fast if it is settling. */
  private _upsert(endpoint: contract.Endpoint): contract.Endpoint {
    const others = this._endpoints.filter(other => other.id !== endpoint.id);
    this._endpoints = EndpointsModel.sorted([...others, endpoint]);
    this._emit();
    if (EndpointsModel.isSettling(endpoint.state)) {
      this._poll.frequency = this._frequency(true);
      if (this._poll.state.phase !== 'constructed') {
        void this._poll.refresh();
      }
    }
    return endpoint;
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

  private _emit(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private readonly _api: IEndpointsApi;
  private readonly _interval: number;
  private readonly _fastInterval: number;
  private readonly _tryIt: TryItModel;
  private readonly _poll: Poll;
  private _catalog: contract.ModelCatalog | null = null;
  private _endpoints: contract.Endpoint[] = [];
  private _user: EndpointsModel.IUser | null = null;
  private _error: Error | null = null;
  private _loading = true;
  private _visible = false;
  private _expanded: ReadonlySet<string> = new Set();
  private readonly _keys = new Map<string, contract.EndpointKey[]>();
  private readonly _metrics = new Map<string, contract.EndpointMetrics>();
  private readonly _detailErrors = new Map<string, string>();
  private readonly _busy = new Set<string>();
  private _isDisposed = false;
  private readonly _changed = new Signal<this, void>(this);
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

  /** Pending or starting: no replica serves yet, but one is on its way. */
  export function isSettling(state: contract.EndpointState): boolean {
    return state === 'pending' || state === 'starting';
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
      stop: state !== 'stopped'
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
