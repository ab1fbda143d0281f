import { type ISignal, Signal } from '@lumino/signaling';
import type { AssistantModel } from './AssistantModel';
import type { AssistantText } from './text';

/**
 * Inline completion without widgets: each request waits for the debounce; a
 * newer request ends the older one's wait and aborts its fetch, and the answer
 * of a request that is no longer the latest is never returned. Only the newest
 * of a burst of keystrokes reaches the bridge.
 */
export class InlineCompletionModel {
  constructor(options: InlineCompletionModel.IOptions) {
    this._assistant = options.assistant;
  }

  /** A model call's error the user has not been told about yet (shown once). */
  get failed(): ISignal<this, string> {
    return this._failed;
  }

  /**
   * The completion at the cursor, or null: off, outdated by a newer request,
   * empty, or failed (a new failure is emitted by `failed`).
   */
  async complete(
    prompt: AssistantText.ICompletionPrompt
  ): Promise<string | null> {
    const ticket = ++this._latest;
    this._controller?.abort();
    this._controller = null;
    const waited = await this._debounce(this._assistant.settings.debounceMs);
    const endpoint = this._assistant.current;
    if (
      !waited ||
      ticket !== this._latest ||
      endpoint === null ||
      !this._assistant.completionActive
    ) {
      return null;
    }
    const controller = new AbortController();
    this._controller = controller;
    try {
      const text = await this._assistant.api.complete(
        {
          endpointId: endpoint.endpointId,
          ...prompt,
          maxTokens: this._assistant.settings.maxTokens
        },
        controller.signal
      );
      this._assistant.noteOutcome(null);
      return ticket === this._latest && text.trim() !== '' ? text : null;
    } catch (error) {
      if (this._assistant.noteOutcome(error) && ticket === this._latest) {
        this._failed.emit(this._assistant.describe(error));
      }
      return null;
    } finally {
      if (this._controller === controller) {
        this._controller = null;
      }
    }
  }

  /** Ends the wait and the fetch in flight (the editor closed, completion off). */
  cancel(): void {
    this._latest += 1;
    this._endWait?.();
    this._controller?.abort();
    this._controller = null;
  }

  /** Resolves true after `ms`, or false as soon as a newer request starts waiting. */
  private _debounce(ms: number): Promise<boolean> {
    this._endWait?.();
    return new Promise(resolve => {
      const timer = setTimeout(() => {
        this._endWait = null;
        resolve(true);
      }, ms);
      this._endWait = () => {
        clearTimeout(timer);
        this._endWait = null;
        resolve(false);
      };
    });
  }

  private readonly _assistant: AssistantModel;
  private _latest = 0;
  private _controller: AbortController | null = null;
  private _endWait: (() => void) | null = null;
  private readonly _failed = new Signal<this, string>(this);
}

export namespace InlineCompletionModel {
  export interface IOptions {
    assistant: AssistantModel;
  }
}
