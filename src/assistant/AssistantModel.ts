import type { AssistantEndpoint } from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { IDisposable } from '@lumino/disposable';
import { type ISignal, Signal } from '@lumino/signaling';
import { messageOf } from '../ui/format';
import { AssistantApi, AssistantError, type IAssistantApi } from './api';
import { AssistantStatus } from './status';

/** The plugin's settings (`schema/assistant.json`). */
export interface IAssistantSettings {
  /** The chosen endpoint; '' chooses by default. */
  endpointId: string;
  inlineCompletion: boolean;
  debounceMs: number;
  maxTokens: number;
  /** How many cells before the current one go into a completion's prompt. */
  contextCells: number;
}

export const DEFAULT_SETTINGS: IAssistantSettings = {
  endpointId: '',
  inlineCompletion: true,
  debounceMs: 250,
  maxTokens: 48,
  contextCells: 5
};

/** The statuses after which the budget or the key has changed: re-list at once. */
const REFRESH_STATUSES = new Set([401, 402, 403, 404, 429]);

/**
 * The endpoints the user may use for completion and chat, the chosen one
 * (kept in the settings), and what is wrong with it. The list is loaded once
 * and re-listed cheaply: every `refreshEvery` requests, or at once after an
 * answer that says the key or the budget changed; never polled.
 */
export class AssistantModel implements IDisposable {
  constructor(options: AssistantModel.IOptions) {
    this._api = options.api;
    this._refreshEvery = options.refreshEvery ?? 20;
    this._saveChoice = options.saveChoice ?? (() => undefined);
    this._trans = options.trans ?? null;
  }

  /** A failure in words for the user. */
  describe(error: unknown): string {
    return this._trans === null
      ? messageOf(error)
      : AssistantStatus.errorText(error, this._trans);
  }

  get api(): IAssistantApi {
    return this._api;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get endpoints(): readonly AssistantEndpoint[] {
    return this._endpoints;
  }

  /** Whether the list has loaded (until then the status item stays hidden). */
  get loaded(): boolean {
    return this._loaded;
  }

  get settings(): IAssistantSettings {
    return this._settings;
  }

  set settings(settings: IAssistantSettings) {
    this._settings = settings;
    this._emit();
  }

  /** The endpoint in use: the chosen one while listed, else the default choice. */
  get current(): AssistantEndpoint | null {
    const chosen = this._endpoints.find(
      e => e.endpointId === this._settings.endpointId
    );
    return chosen ?? AssistantModel.defaultChoice(this._endpoints);
  }

  /**
   * Why the assistant cannot answer now (revoked key, spent budget): the last
   * model call's error, else the bridge's reason for the endpoint; null when fine.
   */
  get problem(): string | null {
    return this._problem ?? this.current?.unavailable ?? null;
  }

  /** The endpoint for chat: the current one when it allows chat, else the first that does. */
  get chatEndpoint(): AssistantEndpoint | null {
    const current = this.current;
    return current?.chat
      ? current
      : (this._endpoints.find(e => e.chat) ?? null);
  }

  /** Whether inline completion should ask the model now. */
  get completionActive(): boolean {
    const current = this.current;
    return (
      this._settings.inlineCompletion &&
      current !== null &&
      current.completion &&
      this.problem === null
    );
  }

  /** Loads the list again; a failure keeps the last list. */
  async refresh(): Promise<void> {
    try {
      this._endpoints = await this._api.endpoints();
      this._loaded = true;
      // The fresh list says what is wrong now (`unavailable`).
      this._problem = null;
      this._requests = 0;
    } catch (error) {
      console.warn('The assistant endpoints could not be listed.', error);
    }
    this._emit();
  }

  /** Keeps `endpointId` as the choice (in the settings). */
  choose(endpointId: string): void {
    this._problem = null;
    this._settings = { ...this._settings, endpointId };
    this._saveChoice(endpointId);
    this._emit();
  }

  /**
   * Notes the outcome of a model call (null: it went fine): a problem shows in
   * the status item until a call succeeds, and the list is refreshed as needed
   * (with `refresh`: now, e.g. after a chat answer, which costs more tokens).
   * Returns whether this is a new error (not the one already shown).
   */
  noteOutcome(error: unknown, options: { refresh?: boolean } = {}): boolean {
    if (AssistantApi.isAbort(error)) {
      return false;
    }
    this._requests += 1;
    const failed = error instanceof AssistantError ? error : null;
    const message = failed === null ? null : this.describe(failed);
    const isNew = message !== null && message !== this._reported;
    const changed = message !== this._problem;
    this._problem = message;
    this._reported = message;
    if (
      options.refresh ||
      (failed !== null && REFRESH_STATUSES.has(failed.status)) ||
      this._requests >= this._refreshEvery
    ) {
      void this.refresh();
    } else if (changed) {
      this._emit();
    }
    return isNew;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _emit(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private readonly _api: IAssistantApi;
  private readonly _refreshEvery: number;
  private readonly _saveChoice: (endpointId: string) => void;
  private readonly _trans: TranslationBundle | null;
  private _settings: IAssistantSettings = DEFAULT_SETTINGS;
  private _endpoints: AssistantEndpoint[] = [];
  private _loaded = false;
  private _problem: string | null = null;
  /** The last error the user was told about; null after a call went fine. */
  private _reported: string | null = null;
  private _requests = 0;
  private _isDisposed = false;
  private readonly _changed = new Signal<this, void>(this);
}

export namespace AssistantModel {
  export interface IOptions {
    api: IAssistantApi;
    /** Re-list after this many model calls (for the tokens left); default 20. */
    refreshEvery?: number;
    /** Keeps a choice in the settings. */
    saveChoice?: (endpointId: string) => void;
    /** Puts failures in words (a spent budget, a revoked key); else their message. */
    trans?: TranslationBundle;
  }

  /** Without a choice: a course endpoint if there is one, else the first own one, else the first. */
  export function defaultChoice(
    endpoints: readonly AssistantEndpoint[]
  ): AssistantEndpoint | null {
    return (
      endpoints.find(e => e.source === 'course') ??
      endpoints.find(e => e.source === 'own') ??
      endpoints[0] ??
      null
    );
  }
}
