/**
 * The OpenAI-compatible gateway routes: `{basePath}v1/models`, `v1/chat/completions`,
 * `v1/completions`, `v1/embeddings`. Not under `/api/v1` and without hub auth: the API
 * key (`Authorization: Bearer hpcb_…`) is the auth and selects the endpoint; it is
 * checked from the header before any of the body is read. Every error here is in
 * OpenAI's shape `{error: {message, type, param, code}}`, which the OpenAI clients
 * parse. JSON bodies nest at most MAX_JSON_DEPTH deep.
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
import type { Gateway } from '../endpoints/gateway';
import {
  FORWARDED_PATHS,
  GatewayBodySchema,
  jsonDeeperThan,
  MAX_JSON_DEPTH
} from '../endpoints/gateway-body';
import { OpenAIError, toOpenAIError } from '../endpoints/gateway-errors';
import { GatewayOverhead } from '../endpoints/gateway-overhead';
import type { IResolvedKey } from '../endpoints/keys';

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

  // JSON with a depth check before parsing (a deep body would overflow the stack of
  // whatever walks it later); the rest is Fastify's own parser.
  const parseJson = app.getDefaultJsonParser('error', 'ignore');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: GATEWAY_BODY_LIMIT },
    (request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (jsonDeeperThan(text, MAX_JSON_DEPTH)) {
        done(
          new OpenAIError(
            400,
            `The request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels.`,
            'invalid_request_error',
            'invalid_json'
          ),
          undefined
        );
        return;
      }
      parseJson(request, text, done);
    }
  );

  const overheads = new WeakMap<FastifyRequest, GatewayOverhead>();
  const overheadOf = (
    request: FastifyRequest,
    reply: FastifyReply
  ): GatewayOverhead => {
    let overhead = overheads.get(request);
    if (overhead === undefined) {
      overhead = new GatewayOverhead(() => reply.elapsedTime);
      overheads.set(request, overhead);
    }
    return overhead;
  };
  // Every answer Fastify sends here (lists, errors); forwarded answers bypass it.
  app.addHook('onSend', (request, reply, payload, done) => {
    void reply.headers(overheadOf(request, reply).headers());
    done(null, payload);
  });

  // The key, from the header, before the body is read: a client without a valid key
  // never gets a body buffered.
  const keys = new WeakMap<FastifyRequest, IResolvedKey>();
  const authenticate = async (request: FastifyRequest): Promise<void> => {
    keys.set(request, gateway.authenticate(request.headers.authorization));
  };
  const keyOf = (request: FastifyRequest): IResolvedKey => {
    const key = keys.get(request);
    if (key === undefined) {
      throw new Error('gateway route without its authentication hook');
    }
    return key;
  };

  const hidden = { hide: true, tags: ['gateway'] };
  const config = policy.public(
    'the gateway checks its own API keys (Authorization: Bearer hpcb_…), not hub tokens'
  );

  app.get(
    '/models',
    { config, schema: hidden, onRequest: authenticate },
    async request => gateway.models(keyOf(request))
  );

  app.get<{ Params: { model: string } }>(
    '/models/:model',
    { config, schema: hidden, onRequest: authenticate },
    async request => {
      const key = keyOf(request);
      const id = gateway.model(key, request.params.model);
      return gateway.models(key).data.find(m => m.id === id);
    }
  );

  for (const path of FORWARDED_PATHS) {
    app.post(
      `/${path}`,
      {
        bodyLimit: GATEWAY_BODY_LIMIT,
        config,
        schema: hidden,
        onRequest: authenticate,
        // Every call is counted in the usage tables; Fastify's two info lines per
        // completion cost about a tenth of the gateway's CPU. Warnings and errors stay.
        logLevel: 'warn'
      },
      async (request, reply) => {
        const startedAt = gateway.time();
        const key = keyOf(request);
        const parsed = GatewayBodySchema.safeParse(request.body);
        if (!parsed.success) {
          const first = parsed.error.issues[0]?.path[0];
          throw new OpenAIError(
            400,
            `Invalid request body: ${parsed.error.issues
              .map(i => `${i.path.join('.') || 'body'}: ${i.message}`)
              .join('; ')}`,
            'invalid_request_error',
            'invalid_body',
            {},
            typeof first === 'string' ? first : null
          );
        }
        const prepared = gateway.prepare(key, path, parsed.data);
        const reservation = gateway.admit(key, prepared);
        await gateway.forward({
          key,
          path,
          prepared,
          reservation,
          startedAt,
          overhead: overheadOf(request, reply),
          res: reply.raw,
          takeOver: () => reply.hijack()
        });
        return reply;
      }
    );
  }
}
