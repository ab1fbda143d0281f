/**
 * The assistant in the editor: inline completion and chat on a gateway endpoint, with
 * the hub login as the only credential. The bridge makes and keeps the user's key of the
 * endpoint (a course student's course key; for others a key named "assistant" that is
 * never shown), so budgets and rate limits apply as to any other key.
 */
import { z } from 'zod';

/** What a request is for: the instructor's usage view shows them apart. */
export const AssistantPurposeSchema = z.enum(['completion', 'chat']);
export type AssistantPurpose = z.infer<typeof AssistantPurposeSchema>;

/** Why the user may use an endpoint for the assistant. */
export const AssistantSourceSchema = z.enum(['own', 'shared', 'course']);

/** One endpoint the user may pick for completion and chat. */
export const AssistantEndpointSchema = z.object({
  endpointId: z.string(),
  name: z.string(),
  model: z.string(),
  /** The endpoint's state (running, sleeping, …): a sleeping one wakes on the first request. */
  state: z.string(),
  source: AssistantSourceSchema,
  /** The course, for `source: course`. */
  course: z.string().nullable(),
  /** Which of completion and chat the user may use it for (a course's instructor decides). */
  completion: z.boolean(),
  chat: z.boolean(),
  /** Tokens left of the key's budget; null: no budget (or no key yet and no budget). */
  tokensLeft: z.number().int().nullable(),
  /**
   * Why the assistant cannot use it now (the key was revoked, the budget is spent);
   * null when it can.
   */
  unavailable: z.string().nullable()
});
export type AssistantEndpoint = z.infer<typeof AssistantEndpointSchema>;

export const AssistantEndpointListSchema = z
  .object({ endpoints: z.array(AssistantEndpointSchema) })
  .meta({ id: 'AssistantEndpointList' });
export type AssistantEndpointList = z.infer<typeof AssistantEndpointListSchema>;

/**
 * `POST /assistant/complete`: an inline completion of the text around the cursor. The
 * answer is OpenAI's `/v1/completions` answer (`choices[0].text`); errors are in
 * OpenAI's shape too (`{error: {message, type, code}}`), as from the gateway.
 */
export const AssistantCompleteSchema = z
  .object({
    endpointId: z.string().min(1).max(64),
    /** The text before the cursor (its end is what matters: the bridge keeps the last 8000 characters). */
    prefix: z.string().max(200_000),
    /** The text after the cursor. */
    suffix: z.string().max(200_000).default(''),
    /** e.g. python; a hint in the prompt. */
    language: z.string().max(40).optional(),
    /** A cap per completion; the bridge's own cap (64) applies when it is lower. */
    maxTokens: z.number().int().positive().max(1024).optional()
  })
  .meta({ id: 'AssistantComplete' });
export type AssistantComplete = z.input<typeof AssistantCompleteSchema>;

export const ChatRoleSchema = z.enum(['user', 'assistant']);

export const ChatMessageSchema = z.object({
  role: ChatRoleSchema,
  content: z.string(),
  /** The notebook cells sent as context with a user message; null: none. */
  context: z.string().nullable(),
  createdAt: z.iso.datetime(),
  /** Tokens the exchange cost (on assistant messages); null when unknown. */
  tokens: z.number().int().nullable()
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

export const ConversationSummarySchema = z.object({
  id: z.string(),
  title: z.string(),
  endpointId: z.string(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime()
});
export type ConversationSummary = z.infer<typeof ConversationSummarySchema>;

export const ConversationListSchema = z
  .object({ conversations: z.array(ConversationSummarySchema) })
  .meta({ id: 'ConversationList' });
export type ConversationList = z.infer<typeof ConversationListSchema>;

export const ConversationSchema = ConversationSummarySchema.extend({
  messages: z.array(ChatMessageSchema)
}).meta({ id: 'Conversation' });
export type Conversation = z.infer<typeof ConversationSchema>;

/** `POST /assistant/conversations`: a new, empty conversation with an endpoint. */
export const ConversationCreateSchema = z
  .object({
    endpointId: z.string().min(1).max(64),
    title: z.string().trim().min(1).max(120).optional()
  })
  .meta({ id: 'ConversationCreate' });
export type ConversationCreate = z.input<typeof ConversationCreateSchema>;

export const ConversationParamsSchema = z.object({
  id: z.string().min(1).max(64)
});

/**
 * `POST /assistant/conversations/{id}/messages`: the user's message; the answer is a
 * stream of OpenAI chat completion chunks (`text/event-stream`, `data: {...}` …
 * `data: [DONE]`). The bridge keeps both messages in the conversation, the answer as far
 * as it streamed; a whole answer is kept before `data: [DONE]` is sent. Errors before the
 * stream starts are in OpenAI's shape.
 */
export const ChatSendSchema = z
  .object({
    content: z.string().trim().min(1).max(32_000),
    /** Selected cells or an error output, sent with this message only. */
    context: z.string().max(64_000).optional(),
    maxTokens: z.number().int().positive().max(4096).optional()
  })
  .meta({ id: 'ChatSend' });
export type ChatSend = z.input<typeof ChatSendSchema>;

/** The course's assistant switch (`CourseUpdate.assistant`). */
export const CourseAssistantSchema = z.object({
  completion: z.boolean(),
  chat: z.boolean()
});
export type CourseAssistant = z.infer<typeof CourseAssistantSchema>;
