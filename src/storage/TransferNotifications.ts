import { Notification } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { IDisposable } from '@lumino/disposable';
import { StorageModel } from './StorageModel';

/**
 * Follows the uploads and copies of the StorageModel in JupyterLab's
 * notifications: one notification each, with a progress bar while it runs,
 * then "Uploaded NAME to TIER" (or why it failed).
 */
export class TransferNotifications implements IDisposable {
  constructor(
    private readonly _model: StorageModel,
    private readonly _trans: TranslationBundle
  ) {
    _model.changed.connect(this._sync, this);
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._model.changed.disconnect(this._sync, this);
  }

  private _sync(): void {
    for (const transfer of this._model.transfers) {
      if (this._ended.has(transfer.id)) {
        continue;
      }
      const shown = this._shown.get(transfer.id);
      if (transfer.state === 'running') {
        const progress = TransferNotifications.fraction(transfer);
        const message = this._message(transfer);
        if (shown === undefined) {
          const id = Notification.emit(message, 'in-progress', {
            progress,
            autoClose: false
          });
          this._shown.set(transfer.id, { id, progress });
        } else if (Math.abs(progress - shown.progress) >= 0.01) {
          Notification.update({ id: shown.id, progress, message });
          shown.progress = progress;
        }
        continue;
      }
      this._ended.add(transfer.id);
      this._shown.delete(transfer.id);
      const type = transfer.state === 'completed' ? 'success' : 'error';
      const message = this._message(transfer);
      const autoClose = type === 'success' ? 5000 : false;
      const updated =
        shown !== undefined &&
        Notification.update({
          id: shown.id,
          message,
          type,
          progress: type === 'success' ? 1 : undefined,
          autoClose
        });
      if (!updated) {
        Notification.emit(message, type, { autoClose });
      }
    }
  }

  private _message(transfer: StorageModel.ITransfer): string {
    const trans = this._trans;
    const upload = transfer.kind === 'upload';
    switch (transfer.state) {
      case 'running':
        return upload
          ? trans.__('Uploading %1 to %2…', transfer.label, transfer.tier)
          : trans.__('Copying %1…', transfer.label);
      case 'completed':
        return upload
          ? trans.__('Uploaded %1 to %2', transfer.label, transfer.tier)
          : trans.__('Copied %1', transfer.label);
      case 'failed':
        return upload
          ? trans.__(
              'Upload of %1 to %2 failed: %3',
              transfer.label,
              transfer.tier,
              transfer.error ?? ''
            )
          : trans.__(
              'Copy %1 failed: %2',
              transfer.label,
              transfer.error ?? ''
            );
    }
  }

  private readonly _shown = new Map<string, { id: string; progress: number }>();
  private readonly _ended = new Set<string>();
  private _isDisposed = false;
}

export namespace TransferNotifications {
  /** How far a transfer is, from 0 to 1. */
  export function fraction(transfer: StorageModel.ITransfer): number {
    if (transfer.state === 'completed') {
      return 1;
    }
    return transfer.total > 0
      ? Math.min(1, transfer.loaded / transfer.total)
      : 0;
  }
}
