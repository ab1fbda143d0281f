import {
  CONTRACT_VERSION,
  type Version,
  type Whoami
} from '@hpc-bridge/server/contract';
import { EXTENSION_VERSION } from '../version';
import type { Bridge, IBridgeClient } from '../tokens';
import { PolledModel } from '../transport/PolledModel';

/**
 * Who the bridge sees and whether its version matches this extension.
 */
export class ConnectionModel extends PolledModel {
  constructor(options: ConnectionModel.IOptions) {
    const interval = options.interval ?? ConnectionModel.DEFAULT_INTERVAL_MS;
    super({
      name: 'ConnectionModel',
      frequency: { interval, backoff: true, max: interval * 5 },
      ...(options.auto === undefined ? {} : { auto: options.auto })
    });
    this._client = options.client;
    this._extensionVersion = options.extensionVersion ?? EXTENSION_VERSION;
    this._contractVersion = options.contractVersion ?? CONTRACT_VERSION;
    this._client.baseUrlChanged.connect(this._onBaseUrlChanged, this);
    this._client.connectionChanged.connect(this._onConnectionChanged, this);
  }

  /** The user as the bridge sees them, once known. */
  get user(): Whoami | null {
    return this._user;
  }

  /** The bridge's version, once known. */
  get version(): Version | null {
    return this._version;
  }

  /** This extension's version. */
  get extensionVersion(): string {
    return this._extensionVersion;
  }

  /** How the bridge's version differs from this extension's, or `null`. */
  get mismatch(): ConnectionModel.IMismatch | null {
    return ConnectionModel.compare(this._version, {
      version: this._extensionVersion,
      contract: this._contractVersion
    });
  }

  protected async load(): Promise<void> {
    try {
      const [user, version] = await Promise.all([
        this._client.whoami(),
        this._client.version()
      ]);
      if (!this.isDisposed) {
        this._user = user;
        this._version = version;
      }
    } catch (error) {
      this._user = null;
      throw error;
    }
  }

  private _onBaseUrlChanged(): void {
    this._user = null;
    this._version = null;
    this.reset();
    void this.refresh();
  }

  private _onConnectionChanged(
    _: IBridgeClient,
    state: Bridge.ConnectionState
  ): void {
    // Another request reached the bridge again: do not wait for the backoff.
    if (state === 'connected' && this.error !== null) {
      void this.refresh();
    }
  }

  private readonly _client: IBridgeClient;
  private readonly _extensionVersion: string;
  private readonly _contractVersion: string;
  private _user: Whoami | null = null;
  private _version: Version | null = null;
}

export namespace ConnectionModel {
  export const DEFAULT_INTERVAL_MS = 60_000;

  export interface IOptions {
    client: IBridgeClient;
    /** Defaults to this package's version. */
    extensionVersion?: string;
    /** Defaults to the contract module's `CONTRACT_VERSION`. */
    contractVersion?: string;
    /** Milliseconds between checks. */
    interval?: number;
    /** Start checking at once (default `true`). */
    auto?: boolean;
  }

  /**
   * A difference between the bridge and this extension:
   * - `contract`: the HTTP contracts differ; requests may fail;
   * - `version`: same contract, different release.
   */
  export interface IMismatch {
    kind: 'contract' | 'version';
    bridge: string;
    extension: string;
  }

  export function compare(
    bridge: Version | null,
    extension: { version: string; contract: string }
  ): IMismatch | null {
    if (bridge === null) {
      return null;
    }
    if (bridge.contract !== extension.contract) {
      return {
        kind: 'contract',
        bridge: bridge.contract,
        extension: extension.contract
      };
    }
    if (bridge.version !== extension.version) {
      return {
        kind: 'version',
        bridge: bridge.version,
        extension: extension.version
      };
    }
    return null;
  }
}
