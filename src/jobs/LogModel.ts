import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import type { IBridgeClient } from '../tokens';

/**
 * The stdout and stderr of one job element, followed while the job runs.
 */
export class LogModel implements IDisposable {
  constructor(options: LogModel.IOptions) {
    this._client = options.client;
    this.jobId = options.jobId;
    this.element = options.element ?? 0;
    this._maxChars = options.maxChars ?? LogModel.DEFAULT_MAX_CHARS;
    if (options.auto ?? true) {
      this.reload();
    }
  }

  readonly jobId: string;
  readonly element: number;

  /** The text received so far (the beginning is dropped past `maxChars`). */
  text(stream: LogModel.Stream): string {
    return this._streams[stream].text;
  }

  /** `following` while the bridge keeps the stream open. */
  status(stream: LogModel.Stream): LogModel.Status {
    return this._streams[stream].status;
  }

  error(stream: LogModel.Stream): Error | null {
    return this._streams[stream].error;
  }

  get changed(): ISignal<this, LogModel.Stream> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** (Re)start following both streams from their tails. */
  reload(): void {
    if (this._disposed) {
      return;
    }
    for (const stream of LogModel.STREAMS) {
      void this._follow(stream);
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    for (const stream of LogModel.STREAMS) {
      this._streams[stream].controller?.abort();
    }
    Signal.clearData(this);
  }

  private async _follow(stream: LogModel.Stream): Promise<void> {
    const state = this._streams[stream];
    state.controller?.abort();
    const controller = new AbortController();
    state.controller = controller;
    state.text = '';
    state.error = null;
    state.status = 'following';
    this._changed.emit(stream);
    try {
      for await (const chunk of this._client.logStream(this.jobId, {
        stream,
        element: this.element,
        follow: true,
        signal: controller.signal
      })) {
        if (controller.signal.aborted || this._disposed) {
          return;
        }
        const text = state.text + chunk;
        state.text =
          text.length > this._maxChars ? text.slice(-this._maxChars) : text;
        this._changed.emit(stream);
      }
      state.status = 'ended';
    } catch (error) {
      if (controller.signal.aborted || this._disposed) {
        return;
      }
      state.status = 'error';
      state.error = error instanceof Error ? error : new Error(String(error));
    }
    if (!this._disposed) {
      this._changed.emit(stream);
    }
  }

  private readonly _client: IBridgeClient;
  private readonly _maxChars: number;
  private _disposed = false;
  private readonly _streams: Record<LogModel.Stream, Private.IStreamState> = {
    stdout: { text: '', status: 'following', error: null, controller: null },
    stderr: { text: '', status: 'following', error: null, controller: null }
  };
  private readonly _changed = new Signal<this, LogModel.Stream>(this);
}

export namespace LogModel {
  export type Stream = 'stdout' | 'stderr';
  export const STREAMS: readonly Stream[] = ['stdout', 'stderr'];
  export type Status = 'following' | 'ended' | 'error';

  /** Characters kept per stream. */
  export const DEFAULT_MAX_CHARS = 1_000_000;

  export interface IOptions {
    client: IBridgeClient;
    jobId: string;
    element?: number;
    maxChars?: number;
    /** Start following at once (default `true`). */
    auto?: boolean;
  }
}

namespace Private {
  export interface IStreamState {
    text: string;
    status: LogModel.Status;
    error: Error | null;
    controller: AbortController | null;
  }
}
