/**
 * The editor's assistant: inline completion and chat with its history, on the endpoints
 * `AssistantEndpoints` allows, through the gateway in process (its budgets, rate limits,
 * wake-from-sleep and usage accounting). What each request cost is also counted by
 * purpose (`assistant_usage`) for the course's usage view.
 */
import { randomBytes } from 'node:crypto';
import type { IAuthUser } from '../auth/decide';
import type {
  AssistantPurpose,
  ChatSend,
  Conversation,
  ConversationCreate,
  ConversationList
} from '../contract';
import { DomainError } from '../domain-error';
import type { ITokens } from '../endpoints/gateway-answer';
import type { ForwardedPath } from '../endpoints/gateway-body';
import type { IResolvedKey } from '../endpoints/keys';
import type { Store } from '../store';
import type { AssistantEndpoints } from './endpoints';
import { chatMessages, completionBody, type ICompletionInput } from './prompts';
import {
  ConversationTable,
  summaryOf,
  type ConversationRow
} from './repository/conversations';
import { AssistantUsageTable } from './repository/usage';

/** Conversations kept per user (the oldest changed go first). */
export const MAX_CONVERSATIONS = 200;
/** Messages kept per conversation (the oldest go first). */
export const MAX_MESSAGES = 500;
/** Characters of the first message that name a conversation. */
const TITLE_CHARS = 60;

/** One model request of the assistant, ready for the gateway. */
export interface IAssistantCall {
  user: string;
  key: IResolvedKey;
  path: ForwardedPath;
  body: Record<string, unknown>;
  purpose: AssistantPurpose;
}

/** A chat turn: its request, and what to keep of it once admitted and once answered. */
export interface IChatTurnCall extends IAssistantCall {
  /** Stores the user's message (call once the gateway admitted the request). */
  keepQuestion: () => void;
  /** Stores the answer as far as it came, with what the exchange cost. */
  keepAnswer: (text: string, tokens: number | null) => void;
}

export interface IAssistantServiceDeps {
  store: Store;
  endpoints: AssistantEndpoints;
  now?: () => number;
}

export class AssistantService {
  readonly endpoints: AssistantEndpoints;
  private readonly conversations: ConversationTable;
  private readonly usage: AssistantUsageTable;
  private readonly now: () => number;

  constructor(deps: IAssistantServiceDeps) {
    this.endpoints = deps.endpoints;
    this.conversations = new ConversationTable(deps.store);
    this.usage = new AssistantUsageTable(deps.store);
    this.now = deps.now ?? Date.now;
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  /** The request of an inline completion (throws 404/403, 401/429 in OpenAI's shape for the key). */
  completion(
    user: IAuthUser,
    input: ICompletionInput & { endpointId: string }
  ): IAssistantCall {
    const target = this.endpoints.target(user, input.endpointId, 'completion');
    return {
      user: user.name,
      key: this.endpoints.key(user, target),
      path: 'completions',
      body: completionBody(input),
      purpose: 'completion'
    };
  }

  /** Counts what an assistant request cost, by purpose. */
  record(call: IAssistantCall, tokens: ITokens): void {
    this.usage.add({
      user: call.user,
      endpointId: call.key.endpointId,
      purpose: call.purpose,
      at: this.now(),
      tokens: tokens.prompt + tokens.completion
    });
  }

  listConversations(user: IAuthUser): ConversationList {
    return {
      conversations: this.conversations.list(user.name).map(summaryOf)
    };
  }

  createConversation(user: IAuthUser, input: ConversationCreate): Conversation {
    this.endpoints.target(user, input.endpointId, 'chat');
    const at = this.iso();
    const row: ConversationRow = {
      id: randomBytes(9).toString('base64url'),
      owner: user.name,
      endpoint_id: input.endpointId,
      title: input.title ?? null,
      created_at: at,
      updated_at: at
    };
    this.conversations.insert(row);
    this.conversations.keepLatest(user.name, MAX_CONVERSATIONS);
    return { ...summaryOf(row), messages: [] };
  }

  conversation(user: IAuthUser, id: string): Conversation {
    const row = this.owned(user, id);
    return { ...summaryOf(row), messages: this.conversations.messages(id) };
  }

  deleteConversation(user: IAuthUser, id: string): void {
    this.owned(user, id);
    this.conversations.delete(id);
  }

  /** A chat turn in conversation `id`: the request, with its history. */
  chatTurn(user: IAuthUser, id: string, input: ChatSend): IChatTurnCall {
    const row = this.owned(user, id);
    const target = this.endpoints.target(user, row.endpoint_id, 'chat');
    const key = this.endpoints.key(user, target);
    const context = input.context ?? null;
    const body: Record<string, unknown> = {
      messages: chatMessages(
        this.conversations.messages(id),
        input.content,
        context
      ),
      stream: true,
      ...(input.maxTokens === undefined ? {} : { max_tokens: input.maxTokens })
    };
    return {
      user: user.name,
      key,
      path: 'chat/completions',
      body,
      purpose: 'chat',
      keepQuestion: () => {
        const at = this.iso();
        this.conversations.addMessage(
          id,
          {
            role: 'user',
            content: input.content,
            context,
            createdAt: at,
            tokens: null
          },
          MAX_MESSAGES
        );
        this.conversations.touch(id, at, input.content.slice(0, TITLE_CHARS));
      },
      keepAnswer: (text, tokens) => {
        const at = this.iso();
        this.conversations.addMessage(
          id,
          {
            role: 'assistant',
            content: text,
            context: null,
            createdAt: at,
            tokens
          },
          MAX_MESSAGES
        );
        this.conversations.touch(id, at);
      }
    };
  }

  /** The user's conversation; 404 for anyone else's, so ids do not leak. */
  private owned(user: IAuthUser, id: string): ConversationRow {
    const row = this.conversations.get(id);
    if (row === undefined || row.owner !== user.name) {
      throw new DomainError('not_found', `No conversation ${id}`);
    }
    return row;
  }
}
