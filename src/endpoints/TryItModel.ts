import type { Endpoint } from '@hpc-bridge/server/contract';
import type { IEndpointsApi } from './api';
import { GatewayChat } from './chat';

/**
 * The "Try it" box of each endpoint: a prompt sent through the gateway and
 * its streamed answer, with the `panel-try` key the page makes for itself
 * (kept in this page's memory only). No widget code here.
 */
export class TryItModel {
  constructor(options: TryItModel.IOptions) {
    this._api = options.api;
    this._fetch = options.fetch;
    this._changed = options.changed;
    this._afterSend = options.afterSend ?? (() => undefined);
  }

  /** The box of an endpoint. */
  chat(id: string): TryItModel.IChat {
    return this._chats.get(id) ?? TryItModel.NO_CHAT;
  }

  /** Stop every answer; later pieces of them are dropped. */
  dispose(): void {
    this._isDisposed = true;
    for (const controller of this._controllers.values()) {
      controller.abort();
    }
  }

  /**
   * Send `prompt` to the endpoint through the gateway and stream the answer
   * into `chat(endpoint.id)`. The first message creates the endpoint's
   * `panel-try` key after revoking older ones.
   */
  async send(endpoint: Endpoint, prompt: string): Promise<void> {
    const id = endpoint.id;
    const text = prompt.trim();
    if (!text || this.chat(id).busy) {
      return;
    }
    this._controllers.get(id)?.abort();
    const controller = new AbortController();
    this._controllers.set(id, controller);
    this._setChat(id, { prompt: text, answer: '', busy: true, error: null });
    try {
      for (let attempt = 0; ; attempt++) {
        const key = await this._key(id);
        try {
          for await (const piece of GatewayChat.stream({
            url: endpoint.url,
            key,
            model: endpoint.model,
            prompt: text,
            maxTokens: TryItModel.MAX_TOKENS,
            signal: controller.signal,
            fetch: this._fetch
          })) {
            this._setChat(id, {
              ...this.chat(id),
              answer: this.chat(id).answer + piece
            });
          }
          break;
        } catch (error) {
          // Revoked elsewhere (another tab made its own): once with a new key.
          const revoked =
            error instanceof GatewayChat.GatewayError && error.status === 401;
          if (!revoked || attempt > 0 || this.chat(id).answer) {
            throw error;
          }
          this._keys.delete(id);
        }
      }
      this._setChat(id, { ...this.chat(id), busy: false });
    } catch (error) {
      this._setChat(id, {
        ...this.chat(id),
        busy: false,
        error: controller.signal.aborted
          ? null
          : error instanceof Error
            ? error.message
            : String(error)
      });
    } finally {
      if (this._controllers.get(id) === controller) {
        this._controllers.delete(id);
      }
      this._afterSend(id);
    }
  }

  /** Drop the box of an endpoint that is gone, stopping its answer. */
  forget(id: string): void {
    this._chats.delete(id);
    this._keys.delete(id);
    this._controllers.get(id)?.abort();
    this._controllers.delete(id);
  }

  /** The key of the box: made on first use, older ones revoked. */
  private async _key(id: string): Promise<string> {
    const known = this._keys.get(id);
    if (known) {
      return known;
    }
    const stale = (await this._api.keys(id)).filter(
      key => key.name === TryItModel.KEY_NAME && key.revokedAt === null
    );
    for (const key of stale) {
      await this._api.revokeKey(id, key.id);
    }
    const created = await this._api.createKey(id, {
      name: TryItModel.KEY_NAME,
      requestsPerMinute: TryItModel.REQUESTS_PER_MINUTE,
      tokenBudget: TryItModel.TOKEN_BUDGET
    });
    this._keys.set(id, created.key);
    return created.key;
  }

  private _setChat(id: string, chat: TryItModel.IChat): void {
    if (this._isDisposed) {
      return;
    }
    this._chats.set(id, chat);
    this._changed();
  }

  private readonly _api: IEndpointsApi;
  private readonly _fetch: GatewayChat.FetchFunction | undefined;
  private readonly _changed: () => void;
  private readonly _afterSend: (id: string) => void;
  private readonly _chats = new Map<string, TryItModel.IChat>();
  private readonly _keys = new Map<string, string>();
  private readonly _controllers = new Map<string, AbortController>();
  private _isDisposed = false;
}

export namespace TryItModel {
  /** The key the box makes for itself. */
  export const KEY_NAME = 'panel-try';
  export const REQUESTS_PER_MINUTE = 30;
  export const TOKEN_BUDGET = 20_000;
  export const MAX_TOKENS = 64;

  export interface IOptions {
    api: IEndpointsApi;
    /** The `fetch` of the gateway requests (tests). */
    fetch?: GatewayChat.FetchFunction;
    /** Called on every change of a box. */
    changed: () => void;
    /** Called when an answer ended (its key's usage changed). */
    afterSend?: (id: string) => void;
  }

  export interface IChat {
    prompt: string;
    answer: string;
    busy: boolean;
    error: string | null;
  }

  export const NO_CHAT: IChat = {
    prompt: '',
    answer: '',
    busy: false,
    error: null
  };
}
