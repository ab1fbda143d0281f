import { CONTRACT_VERSION } from '@hpc-bridge/server/contract';
import type { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';
import { EXTENSION_VERSION } from '../version';
import type { Bridge, IBridgeClient } from '../tokens';

/**
 * Who the bridge sees and whether its version matches this extension.
 */
export class ConnectionModel implements IDisposable {
  constructor(options: ConnectionModel.IOptions) {
    this._client = options.client;
    this._extensionVersion = options.extensionVersion ?? EXTENSION_VERSION;
    this._contractVersion = options.contractVersion ?? CONTRACT_VERSION;
    const interval = options.interval ?? ConnectionModel.DEFAULT_INTERVAL_MS;
    this._poll = new Poll({
      auto: options.auto ?? true,
      factory: () => this._check(),
      frequency: { interval, backoff: true, max: interval * 5 },
      name: 'jupyterlab-hpc-bridge:ConnectionModel',
      standby: 'when-hidden'
    });
    this._client.baseUrlChanged.connect(this._onBaseUrlChanged, this);
    this._client.connectionChanged.connect(this._onConnectionChanged, this);
  }

  /** The user as the bridge sees them, once known. */
  get user(): Bridge.Whoami | null {
    return this._user;
  }

  /** The bridge's version, once known. */
  get version(): Bridge.Version | null {
    return this._version;
  }

  /** The error of the last check, or `null`. */
  get error(): Error | null {
    return this._error;
  }

  /** Whether the first check is still running. */
  get loading(): boolean {
    return this._loading;
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

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  /** Check now; resolves once the model holds the result. */
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

  private async _check(): Promise<void> {
    try {
      const [user, version] = await Promise.all([
        this._client.whoami(),
        this._client.version()
      ]);
      if (this.isDisposed) {
        return;
      }
      this._user = user;
      this._version = version;
      this._error = null;
    } catch (error) {
      if (this.isDisposed) {
        return;
      }
      this._user = null;
      this._error = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      if (!this.isDisposed) {
        this._loading = false;
        this._changed.emit();
      }
    }
  }

  private _onBaseUrlChanged(): void {
    this._user = null;
    this._version = null;
    this._error = null;
    this._loading = true;
    this._changed.emit();
    void this.refresh();
  }

  private _onConnectionChanged(
    _: IBridgeClient,
    state: Bridge.ConnectionState
  ): void {
    // Another request reached the bridge again: do not wait for the backoff.
    if (state === 'connected' && this._error !== null) {
      void this.refresh();
    }
  }

  private readonly _client: IBridgeClient;
  private readonly _extensionVersion: string;
  private readonly _contractVersion: string;
  private readonly _poll: Poll;
  private _user: Bridge.Whoami | null = null;
  private _version: Bridge.Version | null = null;
  private _error: Error | null = null;
  private _loading = true;
  private readonly _changed = new Signal<this, void>(this);
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
    bridge: Bridge.Version | null,
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
