/**
 * The OpenAI-compatible gateway routes: `{basePath}v1/models`, `v1/chat/completions`,
 * `v1/completions`, `v1/embeddings`. Not under `/api/v1` and without hub auth: the API
 * key (`Authorization: Bearer hpcb_…`) is the auth and selects the endpoint. Every
 * error here is in OpenAI's shape `{error: {message, type, param, code}}`, which the
 * OpenAI clients parse.
 *
 * Register with the prefix from `gatewayPrefix`:
 * `app.register(gatewayRoutes, { prefix: gatewayPrefix(config.basePath), gateway })`.
 */
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest
} from 'fastify';
import { policy } from '../auth/policy';
import {
  FORWARDED_PATHS,
  GatewayBodySchema,
  OpenAIError,
  toOpenAIError,
  type Gateway
} from '../endpoints/gateway';

/** Request bodies (prompts, message histories) up to this size. */
export const GATEWAY_BODY_LIMIT = 4 * 1024 * 1024;

export interface IGatewayContext {
  gateway: Gateway;
}

/** `/services/hpc-bridge/` → `/services/hpc-bridge/v1`. */
export function gatewayPrefix(basePath: string): string {
  return `${basePath.replace(/\/+$/, '')}/v1`;
}

function sendError(
  error: OpenAIError,
  request: FastifyRequest,
  reply: FastifyReply
): void {
  if (error.statusCode >= 500) {
    request.log.warn(
      { code: error.code, reason: error.message },
      'gateway request failed'
    );
  }
  if (reply.sent || reply.raw.headersSent) {
    return;
  }
  void reply.status(error.statusCode).headers(error.headers).send(error.body());
}

export async function gatewayRoutes(
  app: FastifyInstance,
  ctx: IGatewayContext
): Promise<void> {
  const { gateway } = ctx;

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const e = toOpenAIError(error);
    if (e.statusCode === 500 && !(error instanceof OpenAIError)) {
      request.log.error({ err: error }, 'gateway error');
    }
    sendError(e, request, reply);
  });
  app.setNotFoundHandler((request, reply) => {
    sendError(
      new OpenAIError(
        404,
        `No route ${request.method} ${request.url.split('?')[0] ?? ''}: the gateway serves /v1/models, /v1/chat/completions, /v1/completions and /v1/embeddings.`,
        'invalid_request_error',
        'unknown_url'
      ),
      request,
      reply
    );
  });

  const hidden = { hide: true, tags: ['gateway'] };
  const config = policy.public(
    'the gateway checks its own API keys (Authorization: Bearer hpcb_…), not hub tokens'
  );

  app.get('/models', { config, schema: hidden }, async request => {
    const key = gateway.authenticate(request.headers.authorization);
    return gateway.models(key);
  });

  app.get<{ Params: { model: string } }>(
    '/models/:model',
    { config, schema: hidden },
    async request => {
      const key = gateway.authenticate(request.headers.authorization);
      const id = gateway.model(key, request.params.model);
      return gateway.models(key).data.find(m => m.id === id);
    }
  );

  for (const path of FORWARDED_PATHS) {
    app.post(
      `/${path}`,
      { bodyLimit: GATEWAY_BODY_LIMIT, config, schema: hidden },
      async (request, reply) => {
        const startedAt = gateway.time();
        const key = gateway.authenticate(request.headers.authorization);
        const parsed = GatewayBodySchema.safeParse(request.body);
        if (!parsed.success) {
          throw new OpenAIError(
            400,
            `Invalid request body: ${parsed.error.issues
              .map(i => `${i.path.join('.') || 'body'}: ${i.message}`)
              .join('; ')}`,
            'invalid_request_error',
            'invalid_body'
          );
        }
        gateway.model(key, parsed.data.model);
        gateway.admit(key);
        await gateway.forward({
          key,
          path,
          body: parsed.data,
          startedAt,
          res: reply.raw,
          takeOver: () => reply.hijack()
        });
        return reply;
      }
    );
  }
}
