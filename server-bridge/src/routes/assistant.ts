/**
 * The editor's assistant: `GET /assistant/endpoints`, `POST /assistant/complete`, and
 * the conversations (`GET/POST /assistant/conversations`, `GET/DELETE …/{id}`,
 * `POST …/{id}/messages`). Completions and chat turns go through the gateway in process,
 * with the key the bridge keeps for the user: their answers, and their errors once the
 * body is valid, are the gateway's, in OpenAI's shape. A closed client connection aborts
 * the model request (the gateway watches `reply.raw`).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { policy } from '../auth/policy';
import { userOf } from '../auth/plugin';
import { DeltaText } from '../assistant/chat-stream';
import type { AssistantService, IAssistantCall } from '../assistant/service';
import {
  AssistantCompleteSchema,
  AssistantEndpointListSchema,
  ChatSendSchema,
  ConversationCreateSchema,
  ConversationListSchema,
  ConversationParamsSchema,
  ConversationSchema,
  ErrorBodySchema,
  Routes
} from '../contract';
import type { Gateway } from '../endpoints/gateway';
import type { ITokens } from '../endpoints/gateway-answer';
import { GatewayBodySchema } from '../endpoints/gateway-body';
import { OpenAIError, toOpenAIError } from '../endpoints/gateway-errors';
import { GatewayOverhead } from '../endpoints/gateway-overhead';
import {
  authErrorResponses,
  declareRoute,
  type IRouteContext
} from './context';

export interface IAssistantContext extends IRouteContext {
  assistant: AssistantService;
  gateway: Gateway;
}

/** OpenAI's error shape, as the gateway answers. */
const OpenAIErrorBodySchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable()
  })
});
const eitherError = z.union([ErrorBodySchema, OpenAIErrorBodySchema]);

/** A model call's answers: the gateway's (OpenAI's shape) after the bridge's checks. */
const modelCallResponses = {
  200: z.unknown(),
  400: ErrorBodySchema,
  401: eitherError,
  403: eitherError,
  404: eitherError,
  429: OpenAIErrorBodySchema,
  500: eitherError,
  502: OpenAIErrorBodySchema,
  503: eitherError
} as const;

const ownedErrors = { ...authErrorResponses, 404: ErrorBodySchema } as const;

const CONVERSATION = `${Routes.conversations}/:id`;

/** A route on one conversation (`:id`): its owner only, 404 to anyone else. */
function ownedConversation<S extends object>(summary: string, schema: S) {
  return declareRoute('assistant', policy.owned('conversation'), {
    summary,
    params: ConversationParamsSchema,
    ...schema
  });
}

/** Sends an error in OpenAI's shape unless the answer has started. */
function replyOpenAIError(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply
): FastifyReply {
  const e = toOpenAIError(error);
  if (e.statusCode >= 500 && !(error instanceof OpenAIError)) {
    request.log.error({ err: error }, 'assistant request failed');
  }
  if (reply.sent || reply.raw.headersSent) {
    return reply;
  }
  return reply.status(e.statusCode).headers(e.headers).send(e.body());
}

export const assistantRoutes: FastifyPluginAsyncZod<IAssistantContext> = async (
  app,
  { assistant, gateway }
) => {
  /**
   * Admits the call as the gateway route does (budget, rate), then `admitted`, then
   * forwards it with the client's connection; the request's usage once it settled.
   */
  const forward = async (
    reply: FastifyReply,
    call: IAssistantCall,
    watch: {
      admitted?: () => void;
      onChunk?: (text: string) => void;
      beforeDone?: (tokens: ITokens) => void;
    } = {}
  ): Promise<ITokens | null> => {
    const { admitted, onChunk, beforeDone } = watch;
    const startedAt = gateway.time();
    const prepared = gateway.prepare(
      call.key,
      call.path,
      GatewayBodySchema.parse(call.body)
    );
    const reservation = gateway.admit(call.key, prepared);
    admitted?.();
    let settled: ITokens | null = null;
    await gateway.forward({
      key: call.key,
      path: call.path,
      prepared,
      reservation,
      startedAt,
      overhead: new GatewayOverhead(() => reply.elapsedTime),
      res: reply.raw,
      takeOver: () => reply.hijack(),
      ...(onChunk === undefined ? {} : { onChunk }),
      ...(beforeDone === undefined ? {} : { beforeDone }),
      onSettled: tokens => {
        settled = tokens;
        assistant.record(call, tokens);
      }
    });
    return settled;
  };

  app.get(
    Routes.assistantEndpoints,
    declareRoute('assistant', policy.user(), {
      summary: 'The endpoints my assistant may use for completion and chat',
      description:
        'My own endpoints, those shared with me, and the endpoint of each course I take whose instructor turned the assistant on. `unavailable` says why one cannot be used now (a revoked course key, a spent budget, a stopped endpoint).',
      response: { 200: AssistantEndpointListSchema, ...authErrorResponses }
    }),
    async request => ({
      endpoints: assistant.endpoints.list(userOf(request))
    })
  );

  app.post(
    Routes.assistantComplete,
    declareRoute('assistant', policy.owned('endpoint'), {
      summary: 'An inline completion of the text around the cursor',
      description:
        "OpenAI's `/v1/completions` answer (`choices[0].text`) from the endpoint, through the gateway with the key the bridge keeps for me (a course's key for a course endpoint): budgets and rate limits apply. At most 64 tokens; the last 8000 characters before the cursor. Errors after the body's check are in OpenAI's shape.",
      body: AssistantCompleteSchema,
      response: modelCallResponses
    }),
    async (request, reply) => {
      try {
        await forward(
          reply,
          assistant.completion(userOf(request), request.body)
        );
      } catch (e) {
        return replyOpenAIError(e, request, reply);
      }
      return reply;
    }
  );

  app.get(
    Routes.conversations,
    declareRoute('assistant', policy.user(), {
      summary: 'My chat conversations, the latest changed first',
      response: { 200: ConversationListSchema, ...authErrorResponses }
    }),
    async request => assistant.listConversations(userOf(request))
  );

  app.post(
    Routes.conversations,
    declareRoute('assistant', policy.owned('endpoint'), {
      summary: 'Start a conversation with an endpoint',
      description:
        'The endpoint is one my assistant may use for chat (`GET /assistant/endpoints`). I keep at most 200 conversations: the oldest go.',
      body: ConversationCreateSchema,
      response: { 201: ConversationSchema, ...ownedErrors }
    }),
    async (request, reply) =>
      reply
        .status(201)
        .send(assistant.createConversation(userOf(request), request.body))
  );

  app.get(
    CONVERSATION,
    ownedConversation('One of my conversations with its messages', {
      response: { 200: ConversationSchema, ...ownedErrors }
    }),
    async request => assistant.conversation(userOf(request), request.params.id)
  );

  app.delete(
    CONVERSATION,
    ownedConversation('Delete one of my conversations', {
      response: { 204: z.null(), ...ownedErrors }
    }),
    async (request, reply) => {
      assistant.deleteConversation(userOf(request), request.params.id);
      return reply.status(204).send(null);
    }
  );

  app.post(
    `${CONVERSATION}/messages`,
    ownedConversation('Send a message; the answer streams back', {
      description:
        "A stream of OpenAI chat completion chunks (`text/event-stream`) as the model writes them. The question is kept once the gateway admits it, the answer as far as it streamed (also when I leave early), with what it cost; a whole answer is kept before its `data: [DONE]` is sent, so the conversation read after it holds the answer. The latest messages go with it, below about 24 KB. Errors before the stream are in OpenAI's shape.",
      body: ChatSendSchema,
      response: modelCallResponses
    }),
    async (request, reply) => {
      const text = new DeltaText();
      let streamed = false;
      let kept = false;
      try {
        const turn = assistant.chatTurn(
          userOf(request),
          request.params.id,
          request.body
        );
        const keep = (tokens: ITokens | null): void => {
          if (kept || !streamed) {
            return;
          }
          kept = true;
          turn.keepAnswer(
            text.end(),
            tokens === null ? null : tokens.prompt + tokens.completion
          );
        };
        // A whole answer is kept before the client sees its end; one cut short, once
        // the request settled.
        const tokens = await forward(reply, turn, {
          admitted: turn.keepQuestion,
          onChunk: t => {
            streamed = true;
            text.push(t);
          },
          beforeDone: t => {
            try {
              keep(t);
            } catch (e) {
              request.log.error({ err: e }, 'chat answer not kept');
            }
          }
        });
        keep(tokens);
      } catch (e) {
        return replyOpenAIError(e, request, reply);
      }
      return reply;
    }
  );
};
