/** An assistant API the assistant model tests drive, and its fixtures. */
import type {
  AssistantComplete,
  AssistantEndpoint,
  ChatSend,
  Conversation,
  ConversationCreate,
  ConversationSummary
} from '@hpc-bridge/server/contract';
import type { IAssistantApi } from '../assistant/api';
import { AssistantModel } from '../assistant/AssistantModel';

export function assistantEndpoint(
  overrides: Partial<AssistantEndpoint> = {}
): AssistantEndpoint {
  return {
    endpointId: 'e1',
    name: 'my-llm',
    model: 'tiny-random',
    state: 'running',
    source: 'own',
    course: null,
    completion: true,
    chat: true,
    tokensLeft: 1234,
    unavailable: null,
    ...overrides
  };
}

export const abortError = (): DOMException =>
  new DOMException('The request was aborted.', 'AbortError');

/** A completion request the test answers (or that its signal aborts). */
export interface IPendingCompletion {
  request: AssistantComplete;
  signal: AbortSignal | undefined;
  resolve: (text: string) => void;
  reject: (error: unknown) => void;
}

/** A streamed answer the test feeds piece by piece. */
export class FakeStream {
  push(delta: string): void {
    this._queue.push({ delta });
    this._wake();
  }
  end(): void {
    this._queue.push({ end: true });
    this._wake();
  }
  fail(error: unknown): void {
    this._queue.push({ error });
    this._wake();
  }

  async *read(signal?: AbortSignal): AsyncGenerator<string, void, undefined> {
    signal?.addEventListener('abort', () => this.fail(abortError()));
    for (;;) {
      while (this._queue.length === 0) {
        await new Promise<void>(resolve => (this._waiting = resolve));
      }
      const item = this._queue.shift()!;
      if ('error' in item) {
        throw item.error;
      }
      if ('end' in item) {
        return;
      }
      yield item.delta;
    }
  }

  private _wake(): void {
    this._waiting?.();
    this._waiting = null;
  }

  private _queue: Array<
    { delta: string } | { end: true } | { error: unknown }
  > = [];
  private _waiting: (() => void) | null = null;
}

export class FakeAssistantApi implements IAssistantApi {
  endpointList: AssistantEndpoint[] = [assistantEndpoint()];
  conversationList: ConversationSummary[] = [];
  calls: string[] = [];
  completions: IPendingCompletion[] = [];
  sent: Array<{ id: string; message: ChatSend }> = [];
  stream = new FakeStream();

  async endpoints(): Promise<AssistantEndpoint[]> {
    this.calls.push('endpoints');
    return this.endpointList;
  }

  complete(request: AssistantComplete, signal?: AbortSignal): Promise<string> {
    this.calls.push('complete');
    return new Promise((resolve, reject) => {
      this.completions.push({ request, signal, resolve, reject });
      signal?.addEventListener('abort', () => reject(abortError()));
    });
  }

  async conversations(): Promise<ConversationSummary[]> {
    return this.conversationList;
  }

  async createConversation(
    request: ConversationCreate
  ): Promise<ConversationSummary> {
    this.calls.push(`create ${request.title}`);
    return summary('c1', request.title ?? 'New conversation');
  }

  async conversation(id: string): Promise<Conversation> {
    return {
      ...summary(id, 'Earlier'),
      messages: [
        {
          role: 'user',
          content: 'Hi',
          context: null,
          createdAt: NOW,
          tokens: null
        },
        {
          role: 'assistant',
          content: 'Hello!',
          context: null,
          createdAt: NOW,
          tokens: 3
        }
      ]
    };
  }

  async deleteConversation(id: string): Promise<void> {
    this.calls.push(`delete ${id}`);
  }

  send(
    id: string,
    message: ChatSend,
    signal?: AbortSignal
  ): AsyncIterable<string> {
    this.sent.push({ id, message });
    return this.stream.read(signal);
  }
}

const NOW = '2026-03-01T10:00:00.000Z';

export function summary(id: string, title: string): ConversationSummary {
  return { id, title, endpointId: 'e1', createdAt: NOW, updatedAt: NOW };
}

/** A loaded assistant model over a fake API. */
export async function loadedModel(
  api = new FakeAssistantApi(),
  options: Partial<AssistantModel.IOptions> = {}
): Promise<{ api: FakeAssistantApi; model: AssistantModel }> {
  const model = new AssistantModel({ api, ...options });
  await model.refresh();
  return { api, model };
}

/** Lets pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await Promise.resolve();
  }
}
