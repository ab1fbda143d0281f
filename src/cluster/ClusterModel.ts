import type { Cluster } from '@hpc-bridge/server/contract';
import type { IPoll } from '@lumino/polling';
import type { IBridgeClient } from '../tokens';
import { PolledModel } from '../transport/PolledModel';

/**
 * The clusters and their partitions, refreshed by polling the bridge.
 *
 * The poll backs off while the bridge fails and stands by while the page is
 * hidden.
 */
export class ClusterModel extends PolledModel {
  constructor(options: ClusterModel.IOptions) {
    const interval = ClusterModel.toMilliseconds(
      options.refreshInterval ?? ClusterModel.DEFAULT_REFRESH_INTERVAL
    );
    super({
      name: 'ClusterModel',
      frequency: ClusterModel.frequency(interval),
      ...(options.auto === undefined ? {} : { auto: options.auto })
    });
    this._client = options.client;
    this._client.baseUrlChanged.connect(this._onBaseUrlChanged, this);
  }

  /** The clusters of the last successful refresh. */
  get clusters(): readonly Cluster[] {
    return this._clusters;
  }

  /** When the clusters were last fetched. */
  get updated(): Date | null {
    return this._updated;
  }

  /** The refresh interval in seconds. */
  get refreshInterval(): number {
    return this.poll.frequency.interval / 1000;
  }

  set refreshInterval(seconds: number) {
    const interval = ClusterModel.toMilliseconds(seconds);
    if (interval !== this.poll.frequency.interval) {
      this.poll.frequency = ClusterModel.frequency(interval);
    }
  }

  protected async load(): Promise<void> {
    const list = await this._client.clusters();
    if (!this.isDisposed) {
      this._clusters = list.clusters;
      this._updated = new Date();
    }
  }

  private _onBaseUrlChanged(): void {
    this._clusters = [];
    this.reset();
    void this.refresh();
  }

  private readonly _client: IBridgeClient;
  private _clusters: readonly Cluster[] = [];
  private _updated: Date | null = null;
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
