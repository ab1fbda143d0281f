import {
  type BridgeEvent,
  BridgeEventSchema
} from '@hpc-bridge/server/contract';
import { ISignal, Signal } from '@lumino/signaling';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { Bridge } from '../tokens';

/**
 * `text/event-stream` text to messages, chunk by chunk (`eventsource-parser`
 * does the parsing; an event without `event:` is a `message`).
 */
export class SseParser {
  /**
   * Feed a chunk of text; returns the messages it completed.
   */
  push(chunk: string): SseParser.IMessage[] {
    this._parser.feed(chunk);
    return this._completed.splice(0);
  }

  private readonly _completed: SseParser.IMessage[] = [];
  private readonly _parser = createParser({
    onEvent: (message: EventSourceMessage) =>
      this._completed.push({
        event: message.event || 'message',
        data: message.data,
        ...(message.id === undefined ? {} : { id: message.id })
      })
  });
}

export namespace SseParser {
  export interface IMessage {
    event: string;
    data: string;
    /** The `id:` the bridge gave the event, to resume after. */
    id?: string;
  }

  /**
   * The bridge event of a message, validated by the contract, or `null`.
   * `data` carries the event with its `type`; a `data` without `type` takes
   * it from the `event:` line.
   */
  export function toBridgeEvent(message: IMessage): BridgeEvent | null {
    let data: unknown;
    try {
      data = JSON.parse(message.data);
    } catch {
      return null;
    }
    if (data !== null && typeof data === 'object' && !('type' in data)) {
      data = { type: message.event, ...data };
    }
    const parsed = BridgeEventSchema.safeParse(data);
    return parsed.success ? parsed.data : null;
  }
}

/**
 * The user's event stream over `fetch` (an `EventSource` cannot send the
 * Authorization header). Reconnects with exponential backoff; a stream that
 * stays silent longer than `silenceMs` (the bridge pings every 15 s) is
 * reopened: a killed bridge does not always close the connection. A reconnect
 * sends the id of the last event received, so that the bridge (any replica)
 * replays the ones missed meanwhile.
 */
export class EventStream implements Bridge.IEventStream {
  constructor(options: EventStream.IOptions) {
    this._open = options.open;
    this._minDelay = options.minDelayMs ?? 1000;
    this._maxDelay = options.maxDelayMs ?? 30_000;
    this._silence = options.silenceMs ?? 40_000;
    void this._run();
  }

  get state(): Bridge.EventStreamState {
    return this._state;
  }

  get stateChanged(): ISignal<this, Bridge.EventStreamState> {
    return this._stateChanged;
  }

  get received(): ISignal<this, BridgeEvent> {
    return this._received;
  }

  get error(): Error | null {
    return this._error;
  }

  get resumed(): boolean {
    return this._resumed;
  }

  /** The id of the last event received, sent as `Last-Event-ID` on reconnect. */
  get lastEventId(): string | null {
    return this._lastEventId;
  }

  /** Connection attempts that failed in a row. */
  get failures(): number {
    return this._failures;
  }

  get isDisposed(): boolean {
    return this._state === 'closed';
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._setState('closed');
    this._controller?.abort();
    if (this._timer !== null) {
      clearTimeout(this._timer);
    }
    this._wake();
    Signal.clearData(this);
  }

  private async _run(): Promise<void> {
    while (!this.isDisposed) {
      this._controller = new AbortController();
      try {
        await this._read(this._controller.signal);
        // The bridge closed the stream (e.g. restarted): reconnect soon.
        this._error = null;
      } catch (error) {
        if (this.isDisposed) {
          return;
        }
        this._error = error instanceof Error ? error : new Error(String(error));
        this._failures++;
      }
      if (this.isDisposed) {
        return;
      }
      this._setState('connecting');
      await this._sleep(this._delay());
    }
  }

  private async _read(signal: AbortSignal): Promise<void> {
    const sentId = this._lastEventId;
    const response = await this._open(signal, sentId);
    const body = response.body;
    if (!body) {
      throw new Error('The event stream has no body.');
    }
    this._failures = 0;
    this._error = null;
    this._resumed =
      sentId !== null &&
      response.headers.get(EventStream.RESUMED_HEADER) === 'true';
    this._setState('open');
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    this._watchSilence();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || this.isDisposed) {
          return;
        }
        this._watchSilence();
        for (const message of parser.push(
          decoder.decode(value, { stream: true })
        )) {
          const event = SseParser.toBridgeEvent(message);
          if (event && !this.isDisposed) {
            if (message.id !== undefined) {
              this._lastEventId = message.id;
            }
            this._received.emit(event);
          }
        }
      }
    } finally {
      if (this._timer !== null) {
        clearTimeout(this._timer);
        this._timer = null;
      }
      reader.cancel().catch(() => undefined);
    }
  }

  private _watchSilence(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      this._controller?.abort();
    }, this._silence);
  }

  private _delay(): number {
    const exponent = Math.min(this._failures, 10);
    return Math.min(this._maxDelay, this._minDelay * 2 ** exponent);
  }

  private _sleep(ms: number): Promise<void> {
    return new Promise(resolve => {
      const timer = setTimeout(() => {
        this._wake = () => undefined;
        resolve();
      }, ms);
      this._wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private _setState(state: Bridge.EventStreamState): void {
    if (state === this._state || this._state === 'closed') {
      return;
    }
    this._state = state;
    this._stateChanged.emit(state);
  }

  private readonly _open: EventStream.Open;
  private readonly _minDelay: number;
  private readonly _maxDelay: number;
  private readonly _silence: number;
  private _state: Bridge.EventStreamState = 'connecting';
  private _error: Error | null = null;
  private _resumed = false;
  private _lastEventId: string | null = null;
  private _failures = 0;
  private _controller: AbortController | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _wake: () => void = () => undefined;
  private readonly _stateChanged = new Signal<this, Bridge.EventStreamState>(
    this
  );
  private readonly _received = new Signal<this, BridgeEvent>(this);
}

export namespace EventStream {
  /** The bridge's answer header: the replay from `Last-Event-ID` missed nothing. */
  export const RESUMED_HEADER = 'x-events-resumed';

  /** Opens the stream (headers received), resuming after `lastEventId` if set, or rejects. */
  export type Open = (
    signal: AbortSignal,
    lastEventId: string | null
  ) => Promise<Response>;

  export interface IOptions {
    open: Open;
    /** First reconnection delay; doubles per failure. */
    minDelayMs?: number;
    maxDelayMs?: number;
    /** Reopen a stream that sent nothing for this long. */
    silenceMs?: number;
  }
}
