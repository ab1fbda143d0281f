import {
  type BridgeEvent,
  type ClusterKernel,
  type KernelState,
  TERMINAL_KERNEL_STATES
} from '@hpc-bridge/server/contract';
import type { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';
import type { Bridge } from '../tokens';
import { PolledModel } from '../transport/PolledModel';
import type { IKernelsApi } from './api';

/**
 * The user's cluster kernels (`GET /kernels`), kept current by the `kernel`
 * events of the user's stream, or by polling while the stream is down, and a
 * clock that ticks so that walltime countdowns move between events.
 */
export class KernelsModel extends PolledModel {
  constructor(options: KernelsModel.IOptions) {
    const interval =
      options.pollInterval ?? KernelsModel.DEFAULT_POLL_INTERVAL_MS;
    super({
      name: 'KernelsModel',
      frequency: { interval, backoff: true, max: interval * 6 },
      auto: false
    });
    this._api = options.api;
    this._now = options.now ?? Date.now;
    this._tickMs = options.tickMs ?? KernelsModel.DEFAULT_TICK_MS;
    if (options.auto ?? true) {
      this.start();
    }
  }

  /** All known kernels, newest first. */
  get kernels(): readonly ClusterKernel[] {
    return this._kernels;
  }

  /** The clock's time (ms since the epoch) as of the last tick. */
  get now(): number {
    return this._nowMs;
  }

  /** Whether live events arrive (else the model polls). */
  get live(): boolean {
    return this._stream?.state === 'open';
  }

  /** Emitted for every new version of a kernel, with the one it replaces. */
  get kernelChanged(): ISignal<this, KernelsModel.IChange> {
    return this._kernelChanged;
  }

  /** Emitted on every tick of the clock. */
  get ticked(): ISignal<this, number> {
    return this._ticked;
  }

  /**
   * The cluster kernel behind a Jupyter kernel id: the newest with that
   * `jupyterKernelId` (a restart starts a new one under the same id).
   */
  forJupyterKernel(jupyterKernelId: string | null): ClusterKernel | null {
    if (jupyterKernelId === null) {
      return null;
    }
    let found: ClusterKernel | null = null;
    for (const kernel of this._kernels) {
      if (
        kernel.jupyterKernelId === jupyterKernelId &&
        (found === null || kernel.createdAt > found.createdAt)
      ) {
        found = kernel;
      }
    }
    return found;
  }

  /** Open the event stream, load the list and start the clock. */
  start(): void {
    if (this.isDisposed || this._stream) {
      return;
    }
    this._openStream();
    this._timer = setInterval(() => this.tick(), this._tickMs);
    void this.poll.start();
  }

  /** Advance the clock to now (the timer calls this; tests too). */
  tick(): void {
    if (this.isDisposed) {
      return;
    }
    this._nowMs = this._now();
    this._ticked.emit(this._nowMs);
    if (this._kernels.some(kernel => !KernelsModel.isTerminal(kernel.state))) {
      this.emitChanged();
    }
  }

  /** A kernel from elsewhere (an action's answer); replaces an older version. */
  upsert(kernel: ClusterKernel): void {
    if (this.isDisposed) {
      return;
    }
    const index = this._kernels.findIndex(known => known.id === kernel.id);
    const previous = index >= 0 ? (this._kernels[index] ?? null) : null;
    if (previous !== null && previous.updatedAt > kernel.updatedAt) {
      return;
    }
    const kernels = [...this._kernels];
    if (index >= 0) {
      kernels[index] = kernel;
    } else {
      kernels.push(kernel);
    }
    this._kernels = kernels.sort(KernelsModel.newestFirst);
    this._nowMs = this._now();
    this._kernelChanged.emit({ previous, kernel });
    this.emitChanged();
  }

  protected disposing(): void {
    this._stream?.dispose();
    this._stream = null;
    if (this._timer !== null) {
      clearInterval(this._timer);
      this._timer = null;
    }
  }

  // While events arrive the list needs no polling.
  protected standby(): boolean | Poll.Standby {
    return (!this._forced && this._stream?.state === 'open') || 'when-hidden';
  }

  protected async load(): Promise<void> {
    this._forced = false;
    const list = await this._api.list();
    if (this.isDisposed) {
      return;
    }
    const known = new Map(this._kernels.map(kernel => [kernel.id, kernel]));
    const changes: KernelsModel.IChange[] = [];
    const kernels: ClusterKernel[] = [];
    for (const kernel of list.kernels) {
      const previous = known.get(kernel.id) ?? null;
      if (previous !== null && previous.updatedAt >= kernel.updatedAt) {
        kernels.push(previous);
        continue;
      }
      kernels.push(kernel);
      changes.push({ previous, kernel });
    }
    this._kernels = kernels.sort(KernelsModel.newestFirst);
    this._nowMs = this._now();
    for (const change of changes) {
      this._kernelChanged.emit(change);
    }
  }

  /** Load now, even while the stream is open. */
  async refresh(): Promise<void> {
    this._forced = true;
    await super.refresh();
  }

  private _openStream(): void {
    const stream = this._api.events();
    stream.received.connect(this._onEvent, this);
    stream.stateChanged.connect(this._onStreamState, this);
    this._stream = stream;
  }

  private _onEvent(_: Bridge.IEventStream, event: BridgeEvent): void {
    if (event.type === 'kernel') {
      this.upsert(event.kernel);
    }
  }

  /**
   * Open: load what was missed, once (none when the bridge replayed it all);
   * (re)connecting: poll until it is open.
   */
  private _onStreamState(
    stream: Bridge.IEventStream,
    state: Bridge.EventStreamState
  ): void {
    if (this.isDisposed) {
      return;
    }
    if (state === 'closed') {
      // The shared stream ended (a new bridge URL): the kernels are the new bridge's.
      this._stream = null;
      this._kernels = [];
      this._openStream();
      void this.refresh();
    } else if (state !== 'open') {
      void this.poll.refresh();
    } else if (!stream.resumed) {
      void this.refresh();
    }
    this.emitChanged();
  }

  private readonly _api: IKernelsApi;
  private readonly _now: () => number;
  private readonly _tickMs: number;
  private _nowMs = Date.now();
  private _timer: ReturnType<typeof setInterval> | null = null;
  private _stream: Bridge.IEventStream | null = null;
  private _forced = false;
  private _kernels: readonly ClusterKernel[] = [];
  private readonly _kernelChanged = new Signal<this, KernelsModel.IChange>(
    this
  );
  private readonly _ticked = new Signal<this, number>(this);
}

export namespace KernelsModel {
  /** Milliseconds between list requests while the event stream is down. */
  export const DEFAULT_POLL_INTERVAL_MS = 10_000;

  /** Milliseconds between ticks of the countdown clock. */
  export const DEFAULT_TICK_MS = 15_000;

  export interface IOptions {
    api: IKernelsApi;
    pollInterval?: number;
    tickMs?: number;
    /** The clock (default `Date.now`). */
    now?: () => number;
    /** Open the stream, load the list and start the clock at once (default `true`). */
    auto?: boolean;
  }

  export interface IChange {
    /** The version the model held before, or `null` for a kernel new to it. */
    previous: ClusterKernel | null;
    kernel: ClusterKernel;
  }

  export function newestFirst(a: ClusterKernel, b: ClusterKernel): number {
    return b.createdAt.localeCompare(a.createdAt);
  }

  export function isTerminal(state: KernelState): boolean {
    return TERMINAL_KERNEL_STATES.includes(state);
  }
}
