import type * as contract from '@hpc-bridge/server/contract';
import { Token } from '@lumino/coreutils';
import type { ISignal } from '@lumino/signaling';

/**
 * The client of the HPC Bridge service, provided by `jupyterlab-hpc-bridge:core`.
 */
export const IBridgeClient = new Token<IBridgeClient>(
  'jupyterlab-hpc-bridge:IBridgeClient',
  'A client of the HPC Bridge service: finds the bridge, authenticates as the user and validates every response with the shared contract.'
);

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
  whoami(): Promise<Bridge.Whoami>;

  /** The bridge's version and contract version. */
  version(): Promise<Bridge.Version>;

  /** The health of the hub, clusters and storage as the bridge sees them. */
  health(): Promise<Bridge.Health>;

  /** The clusters with their partitions and free resources. */
  clusters(): Promise<Bridge.ClusterList>;
}

/**
 * Request and response types of the bridge, from the shared contract.
 */
export namespace Bridge {
  export type Whoami = contract.Whoami;
  export type Version = contract.Version;
  export type Health = contract.Health;
  export type ClusterList = contract.ClusterList;
  export type Cluster = contract.Cluster;
  export type Partition = contract.Partition;
  export type ErrorBody = contract.ErrorBody;
  export type ErrorCode = contract.ErrorCode;

  /**
   * - `unknown`: no request has completed yet (or the URL just changed);
   * - `connected`: the last request got an answer from the bridge;
   * - `disconnected`: the last request did not reach the bridge.
   */
  export type ConnectionState = 'unknown' | 'connected' | 'disconnected';
}
