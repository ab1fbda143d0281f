import type { IDisposable } from '@lumino/disposable';
import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';
import type { Bridge, IBridgeClient } from '../tokens';

/**
 * The clusters and their partitions, refreshed by polling the bridge.
 *
 * The poll backs off while the bridge fails and stands by while the page is
 * hidden.
 */
export class ClusterModel implements IDisposable {
  constructor(options: ClusterModel.IOptions) {
    this._client = options.client;
    const interval = ClusterModel.toMilliseconds(
      options.refreshInterval ?? ClusterModel.DEFAULT_REFRESH_INTERVAL
    );
    this._poll = new Poll({
      auto: options.auto ?? true,
      factory: () => this._fetch(),
      frequency: ClusterModel.frequency(interval),
      name: 'jupyterlab-hpc-bridge:ClusterModel',
      standby: 'when-hidden'
    });
    this._client.baseUrlChanged.connect(this._onBaseUrlChanged, this);
  }

  /** The clusters of the last successful refresh. */
  get clusters(): readonly Bridge.Cluster[] {
    return this._clusters;
  }

  /** The error of the last refresh, or `null` when it succeeded. */
  get error(): Error | null {
    return this._error;
  }

  /** Whether no refresh has completed yet. */
  get loading(): boolean {
    return this._loading;
  }

  /** When the clusters were last fetched. */
  get updated(): Date | null {
    return this._updated;
  }

  /** Emitted whenever the clusters, the error or the loading state change. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The refresh interval in seconds. */
  get refreshInterval(): number {
    return this._poll.frequency.interval / 1000;
  }

  set refreshInterval(seconds: number) {
    const interval = ClusterModel.toMilliseconds(seconds);
    if (interval !== this._poll.frequency.interval) {
      this._poll.frequency = ClusterModel.frequency(interval);
    }
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  /**
   * Refresh now; resolves once the new data (or error) is in the model.
   */
  async refresh(): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    await this._poll.refresh();
    await this._poll.tick.catch(() => undefined);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    // `stop()` clears the pending timer at once; `dispose()` alone leaves it.
    void this._poll.stop();
    this._poll.dispose();
    Signal.clearData(this);
  }

  private async _fetch(): Promise<void> {
    try {
      const list = await this._client.clusters();
      if (this.isDisposed) {
        return;
      }
      this._clusters = list.clusters;
      this._error = null;
      this._updated = new Date();
    } catch (error) {
      if (this.isDisposed) {
        return;
      }
      this._error = error instanceof Error ? error : new Error(String(error));
      // Rethrow so that the poll backs off while the bridge fails.
      throw error;
    } finally {
      if (!this.isDisposed) {
        this._loading = false;
        this._changed.emit();
      }
    }
  }

  private _onBaseUrlChanged(): void {
    this._clusters = [];
    this._error = null;
    this._loading = true;
    this._changed.emit();
    void this.refresh();
  }

  private readonly _client: IBridgeClient;
  private readonly _poll: Poll;
  private _clusters: readonly Bridge.Cluster[] = [];
  private _error: Error | null = null;
  private _loading = true;
  private _updated: Date | null = null;
  private readonly _changed = new Signal<this, void>(this);
}

export namespace ClusterModel {
  /** Seconds between refreshes unless the settings say otherwise. */
  export const DEFAULT_REFRESH_INTERVAL = 10;

  export interface IOptions {
    client: IBridgeClient;
    /** Seconds between refreshes. */
    refreshInterval?: number;
    /** Start polling at once (default `true`). */
    auto?: boolean;
  }

  export function toMilliseconds(seconds: number): number {
    return Math.max(1, seconds) * 1000;
  }

  /** Poll every `interval` ms, backing off up to six times that on errors. */
  export function frequency(interval: number): IPoll.Frequency {
    return { interval, backoff: true, max: interval * 6 };
  }
}
