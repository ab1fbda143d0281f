import type {
  ChatMessage,
  ConversationSummary
} from '@hpc-bridge/server/contract';
import type { IDisposable } from '@lumino/disposable';
import { type ISignal, Signal } from '@lumino/signaling';
import { AssistantApi } from './api';
import type { AssistantModel } from './AssistantModel';
import { AssistantText } from './text';

/** A message as the chat shows it: `streaming` while the answer arrives. */
export interface IChatEntry {
  role: ChatMessage['role'];
  content: string;
  context: string | null;
  streaming: boolean;
}

/**
 * The chat side panel without widgets: the user's conversations, the open
 * one's messages, and the answer streaming into the last message. Stop aborts
 * the stream and keeps what arrived (the bridge keeps it too).
 */
export class ChatModel implements IDisposable {
  constructor(options: ChatModel.IOptions) {
    this._assistant = options.assistant;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get conversations(): readonly ConversationSummary[] {
    return this._conversations;
  }

  /** The open conversation's id; null before the first message of a new one. */
  get currentId(): string | null {
    return this._currentId;
  }

  get messages(): readonly IChatEntry[] {
    return this._messages;
  }

  /** Whether an answer is streaming (Stop is offered). */
  get streaming(): boolean {
    return this._controller !== null;
  }

  /** The last failure in words; null when fine. */
  get error(): string | null {
    return this._error;
  }

  /** Why the chat cannot be used (no endpoint allows chat); null when it can. */
  get unavailable(): string | null {
    if (!this._assistant.loaded) {
      return null;
    }
    const endpoint = this._assistant.chatEndpoint;
    if (endpoint === null) {
      return 'None of your assistant endpoints allows chat.';
    }
    return endpoint.unavailable;
  }

  /** Loads the conversation list. */
  async refresh(): Promise<void> {
    await this._run(async () => {
      this._conversations = await this._assistant.api.conversations();
    });
  }

  /** Opens a conversation with its messages. */
  async open(id: string): Promise<void> {
    this.stop();
    await this._run(async () => {
      const conversation = await this._assistant.api.conversation(id);
      this._currentId = conversation.id;
      this._messages = conversation.messages.map(m => ({
        role: m.role,
        content: m.content,
        context: m.context,
        streaming: false
      }));
    });
  }

  /** Starts a new conversation; it is created with its first message. */
  startNew(): void {
    this.stop();
    this._currentId = null;
    this._messages = [];
    this._error = null;
    this._emit();
  }

  async remove(id: string): Promise<void> {
    await this._run(async () => {
      await this._assistant.api.deleteConversation(id);
      this._conversations = this._conversations.filter(c => c.id !== id);
      if (this._currentId === id) {
        this._currentId = null;
        this._messages = [];
      }
    });
  }

  /**
   * Sends a message (with `context`, e.g. selected cells) and streams the
   * answer into a new assistant message. Resolves when the answer ended,
   * failed or was stopped.
   */
  async send(content: string, context: string | null = null): Promise<void> {
    const text = content.trim();
    const endpoint = this._assistant.chatEndpoint;
    if (text === '' || this.streaming) {
      return;
    }
    if (endpoint === null) {
      this._error = this.unavailable;
      this._emit();
      return;
    }
    const controller = new AbortController();
    this._controller = controller;
    this._error = null;
    this._messages = [
      ...this._messages,
      { role: 'user', content: text, context, streaming: false },
      { role: 'assistant', content: '', context: null, streaming: true }
    ];
    this._emit();
    let failure: unknown = null;
    try {
      const id = await this._conversationFor(endpoint.endpointId, text);
      const stream = this._assistant.api.send(
        id,
        { content: text, ...(context ? { context } : {}) },
        controller.signal
      );
      for await (const delta of stream) {
        this._appendToAnswer(delta);
      }
    } catch (error) {
      failure = error;
      if (!AssistantApi.isAbort(error) && !controller.signal.aborted) {
        this._error = this._assistant.describe(error);
      }
    } finally {
      // A stopped answer cost tokens too: the tokens left are re-listed either way.
      const outcome = controller.signal.aborted ? null : failure;
      this._assistant.noteOutcome(outcome, { refresh: true });
      this._controller = null;
      this._finishAnswer();
    }
  }

  /** Aborts the answer streaming; the text so far stays. */
  stop(): void {
    this._controller?.abort();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.stop();
    Signal.clearData(this);
  }

  /** The open conversation's id, creating it (titled by the message) when new. */
  private async _conversationFor(
    endpointId: string,
    message: string
  ): Promise<string> {
    if (this._currentId !== null) {
      return this._currentId;
    }
    const created = await this._assistant.api.createConversation({
      endpointId,
      title: AssistantText.titleOf(message)
    });
    this._currentId = created.id;
    this._conversations = [
      created,
      ...this._conversations.filter(c => c.id !== created.id)
    ];
    this._emit();
    return created.id;
  }

  private _appendToAnswer(delta: string): void {
    const last = this._messages[this._messages.length - 1];
    this._messages = [
      ...this._messages.slice(0, -1),
      { ...last, content: last.content + delta }
    ];
    this._emit();
  }

  /** Ends the streaming answer; an answer that got no text at all is dropped. */
  private _finishAnswer(): void {
    const last = this._messages[this._messages.length - 1];
    if (last?.streaming) {
      this._messages =
        last.content === ''
          ? this._messages.slice(0, -1)
          : [...this._messages.slice(0, -1), { ...last, streaming: false }];
    }
    this._emit();
  }

  /** Runs a request, keeping its failure as `error`. */
  private async _run(request: () => Promise<void>): Promise<void> {
    this._error = null;
    try {
      await request();
    } catch (error) {
      this._error = this._assistant.describe(error);
    }
    this._emit();
  }

  private _emit(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private readonly _assistant: AssistantModel;
  private _conversations: ConversationSummary[] = [];
  private _currentId: string | null = null;
  private _messages: IChatEntry[] = [];
  private _controller: AbortController | null = null;
  private _error: string | null = null;
  private _isDisposed = false;
  private readonly _changed = new Signal<this, void>(this);
}

export namespace ChatModel {
  export interface IOptions {
    assistant: AssistantModel;
  }
}
