import type { IDisposable } from '@lumino/disposable';
import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

/**
 * What the panel's models share: data fetched by a poll that backs off while the
 * bridge fails and stands by while the page is hidden, with the last error, a
 * loading flag and one `changed` signal. Subclasses implement `load()`.
 */
export abstract class PolledModel implements IDisposable {
  protected constructor(options: PolledModel.IOptions) {
    this.poll = new Poll({
      auto: options.auto ?? true,
      factory: () => this._load(),
      frequency: options.frequency,
      name: `jupyterlab-hpc-bridge:${options.name}`,
      standby: () => this.standby()
    });
  }

  /** The error of the last load, or `null` when it succeeded. */
  get error(): Error | null {
    return this._error;
  }

  /** Whether no load has completed yet (or since `reset`). */
  get loading(): boolean {
    return this._loading;
  }

  /** Emitted whenever the data, the error or the loading state change. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this.poll.isDisposed;
  }

  /** Load now; resolves once the new data (or error) is in the model. */
  async refresh(): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    await this.poll.refresh();
    await this.poll.tick.catch(() => undefined);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.disposing();
    // `stop()` clears the pending timer at once; `dispose()` alone leaves it.
    void this.poll.stop();
    this.poll.dispose();
    Signal.clearData(this);
  }

  /** Fetches the data into the model; throws to report the bridge's trouble. */
  protected abstract load(): Promise<void>;

  /** When the poll may rest; by default while the page is hidden. */
  protected standby(): boolean | Poll.Standby {
    return 'when-hidden';
  }

  /** Called once before the poll stops for good. */
  protected disposing(): void {
    // Nothing to release by default.
  }

  /** Forgets the error and marks the model loading (e.g. for a new bridge URL). */
  protected reset(): void {
    this._error = null;
    this._loading = true;
    this.emitChanged();
  }

  protected emitChanged(): void {
    if (!this.isDisposed) {
      this._changed.emit();
    }
  }

  protected readonly poll: Poll;

  private async _load(): Promise<void> {
    try {
      await this.load();
      if (!this.isDisposed) {
        this._error = null;
      }
    } catch (error) {
      if (!this.isDisposed) {
        this._error = error instanceof Error ? error : new Error(String(error));
      }
      // Rethrown so that the poll backs off while the bridge fails.
      throw error;
    } finally {
      this._loading = false;
      this.emitChanged();
    }
  }

  private _error: Error | null = null;
  private _loading = true;
  private readonly _changed = new Signal<this, void>(this);
}

export namespace PolledModel {
  export interface IOptions {
    /** For the poll's name: `jupyterlab-hpc-bridge:NAME`. */
    name: string;
    frequency: Partial<IPoll.Frequency>;
    /** Start polling at once (default `true`). */
    auto?: boolean;
  }
}
