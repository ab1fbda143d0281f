import type { ClusterKernel } from '@hpc-bridge/server/contract';
import { Notification } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { IDisposable } from '@lumino/disposable';
import { KernelsModel } from './KernelsModel';
import { KernelStatus } from './status';

/**
 * The cluster kernels' notices in JupyterLab's notifications, for kernels of
 * open notebooks and consoles only: "Waiting for the cluster…" while pending
 * (with a Cancel action), a warning before the walltime ends, and an error
 * that says why when the job ends without its owner shutting it down. Each is
 * shown once per kernel and transition.
 */
export class KernelNotices implements IDisposable {
  constructor(options: KernelNotices.IOptions) {
    this._model = options.model;
    this._trans = options.trans;
    this._isOpen = options.isOpen;
    this._shutdown = options.shutdown;
    this._warnMinutes =
      options.warnMinutes ?? KernelNotices.DEFAULT_WARN_MINUTES;
    this._model.kernelChanged.connect(this._onChange, this);
    this._model.ticked.connect(this._checkWalltimes, this);
  }

  /** Minutes before the walltime ends when the warning shows (0: never). */
  get warnMinutes(): number {
    return this._warnMinutes;
  }

  set warnMinutes(minutes: number) {
    this._warnMinutes = minutes;
    this._checkWalltimes();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._model.kernelChanged.disconnect(this._onChange, this);
    this._model.ticked.disconnect(this._checkWalltimes, this);
    for (const id of this._waiting.values()) {
      Notification.dismiss(id);
    }
    this._waiting.clear();
  }

  private _onChange(_: KernelsModel, change: KernelsModel.IChange): void {
    const { previous, kernel } = change;
    if (kernel.state !== 'pending') {
      this._stopWaiting(kernel.id);
    }
    if (!this._isOpen(kernel.jupyterKernelId)) {
      return;
    }
    if (kernel.state === 'pending') {
      this._showWaiting(kernel);
    } else if (kernel.state === 'running') {
      this._checkWalltime(kernel);
    } else if (
      KernelsModel.isTerminal(kernel.state) &&
      previous !== null &&
      !KernelsModel.isTerminal(previous.state) &&
      !KernelStatus.endedByOwner(kernel) &&
      !this._ended.has(kernel.id)
    ) {
      this._ended.add(kernel.id);
      Notification.error(KernelStatus.endedMessage(kernel, this._trans), {
        autoClose: false
      });
    }
  }

  private _showWaiting(kernel: ClusterKernel): void {
    const message = KernelStatus.waiting(kernel, this._model.now, this._trans);
    const shown = this._waiting.get(kernel.id);
    if (shown !== undefined) {
      Notification.update({ id: shown, message });
      return;
    }
    const jupyterKernelId = kernel.jupyterKernelId;
    const id = Notification.emit(message, 'in-progress', {
      autoClose: false,
      actions: [
        {
          label: this._trans.__('Cancel'),
          caption: this._trans.__(
            'Shut the kernel down: its job leaves the queue'
          ),
          displayType: 'warn',
          callback: () => void this._shutdown(jupyterKernelId)
        }
      ]
    });
    this._waiting.set(kernel.id, id);
  }

  private _stopWaiting(kernelId: string): void {
    const shown = this._waiting.get(kernelId);
    if (shown !== undefined) {
      this._waiting.delete(kernelId);
      Notification.dismiss(shown);
    }
  }

  private _checkWalltimes(): void {
    for (const kernel of this._model.kernels) {
      if (kernel.state === 'running' && this._isOpen(kernel.jupyterKernelId)) {
        this._checkWalltime(kernel);
      }
    }
  }

  private _checkWalltime(kernel: ClusterKernel): void {
    if (this._warnMinutes <= 0 || this._warned.has(kernel.id)) {
      return;
    }
    const end =
      kernel.walltimeEnd === null ? NaN : Date.parse(kernel.walltimeEnd);
    const msLeft = end - this._model.now;
    if (Number.isNaN(msLeft) || msLeft > this._warnMinutes * 60_000) {
      return;
    }
    this._warned.add(kernel.id);
    Notification.warning(
      KernelStatus.walltimeWarning(
        kernel,
        Math.max(0, Math.ceil(msLeft / 60_000)),
        this._trans
      ),
      { autoClose: false }
    );
  }

  private readonly _model: KernelsModel;
  private readonly _trans: TranslationBundle;
  private readonly _isOpen: (jupyterKernelId: string) => boolean;
  private readonly _shutdown: (jupyterKernelId: string) => Promise<void>;
  private _warnMinutes: number;
  private _isDisposed = false;
  /** Kernel id → the id of its "Waiting for the cluster" notification. */
  private readonly _waiting = new Map<string, string>();
  private readonly _warned = new Set<string>();
  private readonly _ended = new Set<string>();
}

export namespace KernelNotices {
  export const DEFAULT_WARN_MINUTES = 10;

  export interface IOptions {
    model: KernelsModel;
    trans: TranslationBundle;
    /** Whether a notebook or console of this Jupyter kernel is open. */
    isOpen: (jupyterKernelId: string) => boolean;
    /** Shut the session's kernel down (the launcher cancels the job). */
    shutdown: (jupyterKernelId: string) => Promise<void>;
    warnMinutes?: number;
  }
}
