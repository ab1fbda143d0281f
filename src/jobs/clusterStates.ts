import type { Cluster, Profile } from '@hpc-bridge/server/contract';
import { type ISignal, Signal } from '@lumino/signaling';
import type { IBridgeClient } from '../tokens';

/**
 * The clusters' states as the bridge lists them, so that a profile on a
 * cluster that is down says so (and why) before a submit is refused.
 */
export class ClusterStates {
  constructor(private readonly _client: Pick<IBridgeClient, 'clusters'>) {}

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Lists the clusters; without an answer no cluster is flagged. */
  async load(): Promise<void> {
    try {
      this._clusters = (await this._client.clusters()).clusters;
    } catch {
      this._clusters = [];
    }
    this._changed.emit();
  }

  /** The cluster of `profile` when the bridge lists it as down (with its `error`), else `null`. */
  down(profile: Profile | null): Cluster | null {
    const cluster = this._clusters.find(c => c.name === profile?.cluster);
    return cluster?.status === 'down' ? cluster : null;
  }

  private _clusters: readonly Cluster[] = [];
  private readonly _changed = new Signal<this, void>(this);
}
