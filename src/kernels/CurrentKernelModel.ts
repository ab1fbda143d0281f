import type { ClusterKernel } from '@hpc-bridge/server/contract';
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import type { KernelsModel } from './KernelsModel';

/**
 * The cluster kernel of the current notebook or console, for the status bar:
 * the plugin sets the Jupyter kernel id of the current widget's session; the
 * kernel is the user's cluster kernel with that `jupyterKernelId`, or `null`
 * for a local kernel (or none).
 */
export class CurrentKernelModel implements IDisposable {
  constructor(private readonly _kernels: KernelsModel) {
    _kernels.changed.connect(this._emit, this);
  }

  /** The Jupyter kernel id of the current widget's session, or `null`. */
  get jupyterKernelId(): string | null {
    return this._jupyterKernelId;
  }

  set jupyterKernelId(id: string | null) {
    if (id === this._jupyterKernelId) {
      return;
    }
    this._jupyterKernelId = id;
    this._emit();
  }

  /** The current widget's cluster kernel, or `null`. */
  get kernel(): ClusterKernel | null {
    return this._kernels.forJupyterKernel(this._jupyterKernelId);
  }

  /** The clock's time (ms) for countdowns. */
  get now(): number {
    return this._kernels.now;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._kernels.changed.disconnect(this._emit, this);
    Signal.clearData(this);
  }

  private _emit(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private _jupyterKernelId: string | null = null;
  private _isDisposed = false;
  private readonly _changed = new Signal<this, void>(this);
}
