import {
  type AssistantComplete,
  type AssistantEndpoint,
  AssistantEndpointListSchema,
  type ChatSend,
  type Conversation,
  type ConversationCreate,
  ConversationListSchema,
  ConversationSchema,
  type ConversationSummary,
  ConversationSummarySchema,
  Routes
} from '@hpc-bridge/server/contract';
import { z } from 'zod';
import { GatewayChat } from '../endpoints/chat';
import type { IBridgeClient } from '../tokens';
import { BridgeRequestError, parseJson } from '../transport/errors';

/** An error of a model call: the HTTP status (0: no answer) and OpenAI's code. */
export const AssistantError = GatewayChat.GatewayError;
export type AssistantError = GatewayChat.GatewayError;

/** OpenAI's `/v1/completions` answer, as far as the editor reads it. */
const CompletionAnswerSchema = z.object({
  choices: z.array(z.object({ text: z.string().nullish() })).default([])
});

const AnySchema = z.unknown();

/** The assistant routes of the bridge; the assistant models talk to it only through this. */
export interface IAssistantApi {
  /** The endpoints the user may use for completion or chat. */
  endpoints(): Promise<AssistantEndpoint[]>;
  /** An inline completion of the text around the cursor; '' when the model had none. */
  complete(request: AssistantComplete, signal?: AbortSignal): Promise<string>;
  /** The user's conversations, newest first. */
  conversations(): Promise<ConversationSummary[]>;
  /** A new, empty conversation. */
  createConversation(request: ConversationCreate): Promise<ConversationSummary>;
  /** A conversation with its messages. */
  conversation(id: string): Promise<Conversation>;
  deleteConversation(id: string): Promise<void>;
  /** Sends a message; yields the answer's text as it streams in. */
  send(
    id: string,
    message: ChatSend,
    signal?: AbortSignal
  ): AsyncIterable<string>;
}

export class AssistantApi implements IAssistantApi {
  constructor(
    private readonly _client: Pick<IBridgeClient, 'request' | 'fetchRaw'>
  ) {}

  async endpoints(): Promise<AssistantEndpoint[]> {
    const list = await this._client.request(
      'GET',
      Routes.assistantEndpoints,
      AssistantEndpointListSchema
    );
    return list.endpoints;
  }

  async complete(
    request: AssistantComplete,
    signal?: AbortSignal
  ): Promise<string> {
    const response = await this._post(
      Routes.assistantComplete,
      request,
      'application/json',
      signal
    );
    const text = await response.text();
    const answer = CompletionAnswerSchema.safeParse(parseJson(text));
    if (!answer.success) {
      throw new AssistantError(
        'The assistant sent a completion this extension does not understand.',
        response.status,
        null
      );
    }
    return answer.data.choices[0]?.text ?? '';
  }

  async conversations(): Promise<ConversationSummary[]> {
    const list = await this._client.request(
      'GET',
      Routes.conversations,
      ConversationListSchema
    );
    return list.conversations;
  }

  createConversation(
    request: ConversationCreate
  ): Promise<ConversationSummary> {
    return this._client.request(
      'POST',
      Routes.conversations,
      ConversationSummarySchema,
      { body: request }
    );
  }

  conversation(id: string): Promise<Conversation> {
    return this._client.request(
      'GET',
      Routes.conversation(id),
      ConversationSchema
    );
  }

  async deleteConversation(id: string): Promise<void> {
    await this._client.request('DELETE', Routes.conversation(id), AnySchema);
  }

  async *send(
    id: string,
    message: ChatSend,
    signal?: AbortSignal
  ): AsyncGenerator<string, void, undefined> {
    const response = await this._post(
      Routes.conversationMessages(id),
      message,
      'text/event-stream',
      signal
    );
    yield* GatewayChat.deltas(response);
  }

  /** A JSON POST through the bridge whose errors become `AssistantError`s. */
  private async _post(
    route: string,
    body: unknown,
    accept: string,
    signal?: AbortSignal
  ): Promise<Response> {
    try {
      return await this._client.fetchRaw('POST', route, {
        body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json' },
        accept,
        signal
      });
    } catch (error) {
      throw AssistantApi.errorOf(error);
    }
  }
}

export namespace AssistantApi {
  /** A failed request as an `AssistantError`; an abort stays as it is. */
  export function errorOf(error: unknown): unknown {
    if (error instanceof BridgeRequestError) {
      return new AssistantError(
        error.message,
        error.status,
        error.gatewayCode ?? error.code
      );
    }
    return error;
  }

  /** Whether `error` is the abort of a request the caller gave up on. */
  export function isAbort(error: unknown): boolean {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as { name?: unknown }).name === 'AbortError'
    );
  }
}
