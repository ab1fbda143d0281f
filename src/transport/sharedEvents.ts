import type { BridgeEvent } from '@hpc-bridge/server/contract';
import { ISignal, Signal } from '@lumino/signaling';
import type { Bridge } from '../tokens';

/**
 * One connection to the user's event stream for every model that asks for one
 * (Jobs, cluster kernels, …): each `acquire()` answers a handle; the connection
 * closes when the last handle is disposed, or for all of them with `close()`
 * (a new bridge URL), after which their owners acquire again.
 */
export class SharedEventStream {
  constructor(private readonly _create: () => Bridge.IEventStream) {}

  /** A handle on the shared stream, opened now if none is open. */
  acquire(): Bridge.IEventStream {
    let stream = this._stream;
    if (stream === null || stream.isDisposed) {
      stream = this._create();
      this._stream = stream;
      this._handles = 0;
    }
    this._handles++;
    const shared = stream;
    return new EventStreamHandle(shared, () => this._release(shared));
  }

  /** Closes the connection; every handle reports `closed`. */
  close(): void {
    const stream = this._stream;
    this._stream = null;
    stream?.dispose();
  }

  private _release(stream: Bridge.IEventStream): void {
    if (stream === this._stream && --this._handles === 0) {
      this.close();
    }
  }

  private _stream: Bridge.IEventStream | null = null;
  private _handles = 0;
}

/** A model's view of the shared stream; disposing it lets go of the connection. */
class EventStreamHandle implements Bridge.IEventStream {
  constructor(
    private readonly _stream: Bridge.IEventStream,
    private readonly _release: () => void
  ) {
    _stream.stateChanged.connect(this._onState, this);
    _stream.received.connect(this._onEvent, this);
    // A model that joins a stream already open would wait for an `open` that came
    // before it (and so never load its list): tell it, once its owner has connected.
    if (_stream.state === 'open') {
      void Promise.resolve().then(() => {
        if (!this._isDisposed && this._stream.state === 'open') {
          this._opened = true;
          this._stateChanged.emit('open');
        }
      });
    }
  }

  get state(): Bridge.EventStreamState {
    return this._isDisposed ? 'closed' : this._stream.state;
  }

  get error(): Error | null {
    return this._stream.error;
  }

  get resumed(): boolean {
    return this._resumed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  get stateChanged(): ISignal<this, Bridge.EventStreamState> {
    return this._stateChanged;
  }

  get received(): ISignal<this, BridgeEvent> {
    return this._received;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._detach();
    this._release();
  }

  private _detach(): void {
    this._isDisposed = true;
    this._stream.stateChanged.disconnect(this._onState, this);
    this._stream.received.disconnect(this._onEvent, this);
    Signal.clearData(this);
  }

  private _onState(
    _: Bridge.IEventStream,
    state: Bridge.EventStreamState
  ): void {
    this._resumed = state === 'open' && this._opened && this._stream.resumed;
    this._opened ||= state === 'open';
    this._stateChanged.emit(state);
    if (state === 'closed') {
      this._detach();
    }
  }

  private _onEvent(_: Bridge.IEventStream, event: BridgeEvent): void {
    this._received.emit(event);
  }

  private _isDisposed = false;
  /** Whether it told its owner `open` before: only then can a reconnect resume for it. */
  private _opened = false;
  private _resumed = false;
  private readonly _stateChanged = new Signal<this, Bridge.EventStreamState>(
    this
  );
  private readonly _received = new Signal<this, BridgeEvent>(this);
}
