/**
 * The OpenAI-compatible gateway: an API key selects one endpoint; the request goes to a
 * ready replica of it (woken and held by the router when it sleeps) with the replica's
 * own key. Answers stream through as they arrive (SSE, event by event, never
 * buffered whole); usage is read from the answers and counted per key.
 *
 * The documented retry: when the connection to the replica fails before any response
 * byte (refused, reset, unreachable), the gateway reports the replica
 * (`upstreamFailed`) and sends the request once more to the replica the router gives
 * then (another one, or a new one after a restart). A failure after the first
 * response byte is passed to the client as it is; nothing is sent twice.
 *
 * Token budgets are caps: before a request goes, its key reserves what it may cost
 * (the body's size in bytes, an upper bound of its prompt tokens, plus `max_tokens`
 * per choice); the real usage replaces the reservation when the answer ends (see
 * `forward` for what a request without reported usage costs).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { z } from 'zod';
import { DEFAULT_DEFAULT_MAX_TOKENS, DEFAULT_MAX_TOKENS } from '../config';
import { HttpError } from '../errors';
import { bearerOf, type EndpointKeys, type IResolvedKey } from './keys';
import type { IEndpointRouter, IUpstream } from './ports';
import type { EndpointUsage, IReservation } from './usage';

/** The paths under `/v1` that go to the model server. */
export const FORWARDED_PATHS = [
  'chat/completions',
  'completions',
  'embeddings'
] as const;
export type ForwardedPath = (typeof FORWARDED_PATHS)[number];

/** How long connecting to a replica may take before it counts as unreachable. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Largest non-streaming answer read for its usage; larger ones pass through uncounted. */
const MAX_BUFFERED_ANSWER = 64 * 1024 * 1024;

/** Deepest nesting of arrays and objects a request body may have. */
export const MAX_JSON_DEPTH = 64;

/** Longest upstream error message passed on (longer ones are cut). */
const MAX_UPSTREAM_MESSAGE = 2000;

/** OpenAI's error shape; clients (the `openai` packages) parse it. */
export interface IOpenAIErrorBody {
  error: {
    message: string;
    type: string;
    param: string | null;
    code: string | null;
  };
}

export class OpenAIError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly type: string,
    readonly code: string | null,
    readonly headers: Record<string, string> = {},
    /** The request body's field at fault. */
    readonly param: string | null = null
  ) {
    super(message);
    this.name = 'OpenAIError';
  }

  body(): IOpenAIErrorBody {
    return {
      error: {
        message: this.message,
        type: this.type,
        param: this.param,
        code: this.code
      }
    };
  }
}

/**
 * Whether a JSON text nests arrays and objects deeper than `max`; a scan without
 * recursion, so that any depth is safe to check before the text is parsed.
 */
export function jsonDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) {
        i += 1; // the escaped character
      } else if (c === 0x22) {
        inString = false;
      }
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      depth += 1;
      if (depth > max) {
        return true;
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth -= 1;
    }
  }
  return false;
}

const UpstreamErrorSchema = z.looseObject({
  error: z
    .union([
      z.string(),
      z.looseObject({
        message: z.string().optional(),
        type: z.string().optional(),
        param: z.string().nullish(),
        code: z.union([z.string(), z.number()]).nullish()
      })
    ])
    .optional(),
  message: z.string().optional(),
  detail: z.string().optional()
});

/**
 * A model server's error in OpenAI's exact shape: llama-server sends a numeric `code`
 * and no `param`, other servers `{detail}` or plain text. `status` decides the type
 * where the model server gives none (and always for 5xx: `server_error`).
 */
export function normaliseUpstreamError(
  status: number,
  upstream: unknown
): IOpenAIErrorBody {
  const parsed = UpstreamErrorSchema.safeParse(upstream);
  const e = parsed.success ? parsed.data.error : undefined;
  const detail = typeof e === 'object' ? e : undefined;
  const message =
    (typeof e === 'string' ? e : detail?.message) ??
    (parsed.success
      ? (parsed.data.message ?? parsed.data.detail)
      : undefined) ??
    `The model server answered HTTP ${status}.`;
  const type =
    status >= 500
      ? 'server_error'
      : (detail?.type ??
        (status === 429 ? 'rate_limit_exceeded' : 'invalid_request_error'));
  return {
    error: {
      message:
        message.length > MAX_UPSTREAM_MESSAGE
          ? `${message.slice(0, MAX_UPSTREAM_MESSAGE)}…`
          : message,
      type,
      param: detail?.param ?? null,
      code: typeof detail?.code === 'string' ? detail.code : null
    }
  };
}

/** Any error as OpenAI's error: ours, the router's HttpErrors, Fastify's 4xx. */
export function toOpenAIError(error: unknown): OpenAIError {
  if (error instanceof OpenAIError) {
    return error;
  }
  if (error instanceof HttpError) {
    const status = error.statusCode;
    return new OpenAIError(
      status,
      error.message,
      status >= 500 ? 'server_error' : 'invalid_request_error',
      status === 503 ? 'endpoint_unavailable' : error.code
    );
  }
  const status =
    error instanceof Error &&
    'statusCode' in error &&
    typeof error.statusCode === 'number'
      ? error.statusCode
      : 500;
  if (status >= 400 && status < 500 && error instanceof Error) {
    return new OpenAIError(
      status,
      error.message,
      'invalid_request_error',
      status === 413 ? 'request_too_large' : null
    );
  }
  return new OpenAIError(500, 'Internal error', 'server_error', null);
}

const UNAUTHENTICATED = (message: string): OpenAIError =>
  new OpenAIError(401, message, 'invalid_request_error', 'invalid_api_key', {
    'www-authenticate': 'Bearer'
  });

const POSITIVE_INTEGER = 'must be a positive integer';
const count = z
  .number({ error: POSITIVE_INTEGER })
  .int({ error: POSITIVE_INTEGER })
  .positive({ error: POSITIVE_INTEGER })
  .nullish();

/** What the gateway reads of a request body; everything else passes unchanged. */
export const GatewayBodySchema = z.looseObject({
  model: z.string().optional(),
  stream: z.boolean().nullish(),
  stream_options: z
    .looseObject({ include_usage: z.boolean().optional() })
    .nullish(),
  max_tokens: count,
  max_completion_tokens: count,
  /** llama-server's own name for max_tokens (it wins there when both are sent). */
  n_predict: count,
  /** Choices per request: each may run to max_tokens. */
  n: count,
  best_of: count
});
export type GatewayBody = z.infer<typeof GatewayBodySchema>;

/** The completion-token limits of a catalog model. */
export interface ITokenLimits {
  /** `max_tokens` of a request that sets none. */
  defaultMaxTokens: number;
  /** Most a request may ask for. */
  maxTokens: number;
}

const DEFAULT_TOKEN_LIMITS: ITokenLimits = {
  defaultMaxTokens: DEFAULT_DEFAULT_MAX_TOKENS,
  maxTokens: DEFAULT_MAX_TOKENS
};

/** A request checked and ready to go: the upstream body and what it may cost. */
export interface IPreparedRequest {
  model: string;
  payload: Buffer;
  streaming: boolean;
  clientWantsUsage: boolean;
  /** The prompt's tokens at most: the upstream body's size in bytes. */
  promptEstimate: number;
  /** The completion's tokens at most: max_tokens × choices (0 for embeddings). */
  completionMax: number;
}

const UsageSchema = z.looseObject({
  prompt_tokens: z.number().nonnegative().optional(),
  completion_tokens: z.number().nonnegative().optional(),
  total_tokens: z.number().nonnegative().optional()
});

const AnswerSchema = z.looseObject({
  usage: UsageSchema.nullish(),
  choices: z.array(z.unknown()).optional()
});

interface ITokens {
  prompt: number;
  completion: number;
}

function tokensOf(usage: z.infer<typeof UsageSchema>): ITokens {
  const prompt = usage.prompt_tokens ?? 0;
  const completion =
    usage.completion_tokens ?? Math.max(0, (usage.total_tokens ?? 0) - prompt);
  return { prompt, completion };
}

/** The upstream URL of `path` (`/v1` added unless the base URL has it). */
export function upstreamUrl(base: string, path: ForwardedPath): URL {
  const trimmed = base.replace(/\/+$/, '');
  const v1 = /\/v1$/.test(trimmed) ? trimmed : `${trimmed}/v1`;
  return new URL(`${v1}/${path}`);
}

/** Errors of a connection that failed before any response byte. */
class ConnectFailure extends Error {
  constructor(
    readonly cause: Error,
    readonly reusedSocket: boolean
  ) {
    super(cause.message);
  }
}

export interface IGatewayOptions {
  keys: EndpointKeys;
  usage: EndpointUsage;
  router: IEndpointRouter;
  /** The catalog's limits of a model; default (and for unknown models): 512 of 4096. */
  tokenLimits?: (model: string) => ITokenLimits | undefined;
  now?: () => number;
  /** Warnings (failed replicas, aborted streams); default: none. */
  warn?: (details: Record<string, unknown>, message: string) => void;
}

export interface IForwardRequest {
  key: IResolvedKey;
  path: ForwardedPath;
  prepared: IPreparedRequest;
  /** From `admit`: settled once the request ends, whatever happens. */
  reservation: IReservation;
  /** When the request arrived (for the latency). */
  startedAt: number;
  /** The client's connection: closed → the upstream request is aborted. */
  res: ServerResponse;
  /** Called just before the first byte is written to `res` (Fastify's hijack). */
  takeOver: () => void;
}

export class Gateway {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly tlsAgent = new https.Agent({
    keepAlive: true,
    maxSockets: 256
  });
  private readonly now: () => number;

  constructor(private readonly options: IGatewayOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The gateway's clock (ms), for `IForwardRequest.startedAt`. */
  time(): number {
    return this.now();
  }

  /** The key of an `Authorization: Bearer hpcb_…` header, valid and not revoked; 401 otherwise. */
  authenticate(authorization: string | undefined): IResolvedKey {
    const presented = bearerOf(authorization);
    if (presented === null) {
      throw UNAUTHENTICATED(
        'Missing API key: send "Authorization: Bearer <key>" with a key of the endpoint.'
      );
    }
    const key = this.options.keys.resolve(presented);
    if (key === null) {
      throw UNAUTHENTICATED('Invalid API key (unknown or revoked).');
    }
    return key;
  }

  /**
   * Checks a request's body against the model's limits and builds what goes upstream:
   * the endpoint's model, `max_tokens` (the model's default when the request sets
   * none; the smallest of max_tokens, max_completion_tokens and n_predict otherwise,
   * written to each of them that was sent), usage asked for on streams.
   */
  prepare(
    key: IResolvedKey,
    path: ForwardedPath,
    request: GatewayBody
  ): IPreparedRequest {
    const model = this.model(key, request.model);
    const streaming = request.stream === true;
    const clientWantsUsage = request.stream_options?.include_usage === true;
    const body: GatewayBody = { ...request, model };
    let completionMax = 0;
    if (path !== 'embeddings') {
      const limits = this.options.tokenLimits?.(model) ?? DEFAULT_TOKEN_LIMITS;
      const fields = [
        'max_tokens',
        'max_completion_tokens',
        'n_predict'
      ] as const;
      const asked = fields
        .map(f => request[f])
        .filter((v): v is number => typeof v === 'number');
      const maxTokens =
        asked.length === 0 ? limits.defaultMaxTokens : Math.min(...asked);
      if (maxTokens > limits.maxTokens) {
        throw new OpenAIError(
          400,
          `max_tokens is ${maxTokens}; the model ${model} allows at most ${limits.maxTokens}.`,
          'invalid_request_error',
          'invalid_value',
          {},
          fields.find(f => request[f] === maxTokens) ?? 'max_tokens'
        );
      }
      body.max_tokens = maxTokens;
      for (const f of fields) {
        if (typeof request[f] === 'number') {
          body[f] = maxTokens;
        }
      }
      completionMax =
        maxTokens * Math.max(request.n ?? 1, request.best_of ?? 1);
    }
    if (streaming) {
      body.stream_options = {
        ...(request.stream_options ?? {}),
        include_usage: true
      };
    }
    const payload = Buffer.from(JSON.stringify(body));
    return {
      model,
      payload,
      streaming,
      clientWantsUsage,
      promptEstimate: payload.length,
      completionMax
    };
  }

  /**
   * Budget and rate: reserves what the request may cost; 429 in OpenAI's shape when
   * the key may not send now or the reservation does not fit its budget.
   */
  admit(key: IResolvedKey, prepared: IPreparedRequest): IReservation {
    const cost = prepared.promptEstimate + prepared.completionMax;
    const a = this.options.usage.admit(key, cost);
    if (a.ok) {
      return a.reservation;
    }
    if (a.reason === 'budget') {
      const left = Math.max(0, a.budget - a.used - a.reserved);
      const held =
        a.reserved > 0
          ? ` (${a.reserved} more are held by requests in flight)`
          : '';
      throw new OpenAIError(
        429,
        a.used >= a.budget
          ? `This key has used its token budget (${a.used} of ${a.budget} tokens). Ask the endpoint's owner for a new key.`
          : `This request may cost up to ${a.asked} tokens (${prepared.promptEstimate} for the prompt, its size in bytes, and ${prepared.completionMax} for max_tokens), but the key has ${left} of its ${a.budget} tokens left${held}. Send a smaller max_tokens or a shorter prompt.`,
        'insufficient_quota',
        'insufficient_quota'
      );
    }
    throw new OpenAIError(
      429,
      `Rate limit reached: this key may send ${a.limit} requests per minute. Try again in ${a.retryAfterSeconds} s.`,
      'requests',
      'rate_limit_exceeded',
      { 'retry-after': String(a.retryAfterSeconds) }
    );
  }

  /** The endpoint's model; 404 when the endpoint is gone or `requested` names another. */
  model(key: IResolvedKey, requested?: string): string {
    const model = this.options.router.modelOf(key.endpointId);
    if (model === null) {
      throw new OpenAIError(
        404,
        'The endpoint of this key no longer exists.',
        'invalid_request_error',
        'model_not_found'
      );
    }
    if (requested !== undefined && requested !== model) {
      throw new OpenAIError(
        404,
        `The model ${JSON.stringify(requested)} does not exist here: this key's endpoint serves ${JSON.stringify(model)}.`,
        'invalid_request_error',
        'model_not_found'
      );
    }
    return model;
  }

  /** `GET /v1/models`: the one model of the key's endpoint. */
  models(key: IResolvedKey): {
    object: 'list';
    data: { id: string; object: 'model'; created: number; owned_by: string }[];
  } {
    const id = this.model(key);
    return {
      object: 'list',
      data: [{ id, object: 'model', created: 0, owned_by: key.owner }]
    };
  }

  /**
   * Sends a request to the endpoint and the answer back to `res`. Rejects (nothing
   * written yet) when no replica could be reached; once the answer has started, the
   * promise resolves whatever happens to the stream.
   *
   * The reservation is settled exactly once, with the usage the model server reports;
   * without a report: a stream costs the prompt estimate plus one token per content
   * chunk passed on, a successful answer its whole reservation, a request the client
   * aborted after it was sent the prompt estimate plus what was streamed; an error
   * answer, a refused key or an unreachable replica cost nothing.
   */
  async forward(request: IForwardRequest): Promise<void> {
    const { key, path, res, prepared, reservation } = request;
    const { router } = this.options;
    const { model, payload, promptEstimate } = prepared;

    const ac = new AbortController();
    const onClose = (): void => {
      if (!res.writableFinished) {
        ac.abort();
      }
    };
    res.on('close', onClose);
    router.touched(key.endpointId);

    let settled = false;
    const settle = (tokens: ITokens, error: boolean): void => {
      if (settled) {
        return;
      }
      settled = true;
      this.options.usage.record(
        {
          keyId: key.keyId,
          endpointId: key.endpointId,
          promptTokens: tokens.prompt,
          completionTokens: tokens.completion,
          latencyMs: this.now() - request.startedAt,
          error
        },
        reservation
      );
    };
    const nothing: ITokens = { prompt: 0, completion: 0 };
    const promptOnly: ITokens = { prompt: promptEstimate, completion: 0 };

    let answer: IncomingMessage;
    let upstream: IUpstream;
    const progress = { sent: false };
    try {
      ({ answer, upstream } = await this.send(
        key.endpointId,
        path,
        payload,
        ac.signal,
        progress
      ));
    } catch (e) {
      res.off('close', onClose);
      const aborted = ac.signal.aborted;
      settle(aborted && progress.sent ? promptOnly : nothing, true);
      if (aborted) {
        throw new OpenAIError(
          499,
          'The client closed the request.',
          'invalid_request_error',
          'client_closed_request'
        );
      }
      throw e;
    }

    const status = answer.statusCode ?? 502;
    if (status === 401 || status === 403) {
      answer.resume();
      res.off('close', onClose);
      router.upstreamFailed(
        key.endpointId,
        upstream.replicaId,
        `the replica refused the gateway's key (HTTP ${status})`
      );
      settle(nothing, true);
      throw new OpenAIError(
        502,
        'The model server refused the gateway; the replica is being checked. Try again.',
        'server_error',
        'upstream_error'
      );
    }
    const contentType = String(answer.headers['content-type'] ?? '');
    try {
      if (status === 200 && contentType.startsWith('text/event-stream')) {
        request.takeOver();
        const result = await this.relayStream(
          answer,
          res,
          prepared.clientWantsUsage,
          model
        );
        settle(
          result.reported ?? {
            prompt: promptEstimate,
            completion: result.chunks
          },
          !result.complete
        );
      } else {
        const ok = status >= 200 && status < 300;
        let buffered = await this.readAnswer(answer);
        let type = contentType === '' ? 'application/json' : contentType;
        if (!ok) {
          buffered = Buffer.from(
            JSON.stringify(normaliseUpstreamError(status, jsonOrText(buffered)))
          );
          type = 'application/json';
        } else if (contentType.startsWith('application/json')) {
          buffered = Buffer.from(
            new ModelName(model).apply(buffered.toString('utf8'))
          );
        }
        request.takeOver();
        res.writeHead(status, {
          'content-type': type,
          'content-length': String(buffered.length),
          'cache-control': 'no-store'
        });
        res.end(buffered);
        settle(
          usageOfAnswer(buffered) ??
            (ok
              ? { prompt: promptEstimate, completion: prepared.completionMax }
              : nothing),
          !ok
        );
      }
    } catch (e) {
      settle(promptOnly, true);
      if (!res.headersSent && !ac.signal.aborted) {
        throw e;
      }
      this.options.warn?.(
        {
          endpoint: key.endpointId,
          replica: upstream.replicaId,
          reason: String(e)
        },
        'answer interrupted'
      );
      res.destroy();
    } finally {
      res.off('close', onClose);
    }
  }

  /** Opens the upstream request, with the documented retry. */
  private async send(
    endpointId: string,
    path: ForwardedPath,
    payload: Buffer,
    signal: AbortSignal,
    progress: { sent: boolean }
  ): Promise<{ answer: IncomingMessage; upstream: IUpstream }> {
    const { router } = this.options;
    let upstream = await router.upstream(endpointId, signal);
    let retried = false;
    let fresh = false;
    for (;;) {
      try {
        progress.sent = true;
        const answer = await this.request(
          upstream,
          path,
          payload,
          signal,
          fresh
        );
        return { answer, upstream };
      } catch (e) {
        if (!(e instanceof ConnectFailure) || signal.aborted) {
          throw e;
        }
        if (e.reusedSocket && !fresh) {
          // A kept-alive socket the replica closed meanwhile is no replica failure:
          // the same replica again, on a new connection (not the documented retry).
          fresh = true;
          continue;
        }
        router.upstreamFailed(endpointId, upstream.replicaId, e.message);
        this.options.warn?.(
          {
            endpoint: endpointId,
            replica: upstream.replicaId,
            reason: e.message,
            retry: !retried
          },
          'replica unreachable'
        );
        if (retried) {
          throw new OpenAIError(
            502,
            `The model server could not be reached (${e.message}); the endpoint is being repaired. Try again.`,
            'server_error',
            'upstream_unreachable'
          );
        }
        retried = true;
        fresh = false;
        upstream = await router.upstream(endpointId, signal);
      }
    }
  }

  /** One upstream request; `fresh`: on a new connection, not a kept-alive one. */
  private request(
    upstream: IUpstream,
    path: ForwardedPath,
    payload: Buffer,
    signal: AbortSignal,
    fresh: boolean
  ): Promise<IncomingMessage> {
    const url = upstreamUrl(upstream.baseUrl, path);
    const tls = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const req = (tls ? https : http).request(url, {
        method: 'POST',
        agent: fresh ? false : tls ? this.tlsAgent : this.agent,
        signal,
        headers: {
          authorization: `Bearer ${upstream.apiKey}`,
          'content-type': 'application/json',
          'content-length': String(payload.length),
          accept: 'application/json, text/event-stream'
        }
      });
      let answered = false;
      req.on('response', answer => {
        answered = true;
        resolve(answer);
      });
      // A replica's host that does not answer at all (node down): give up connecting
      // after CONNECT_TIMEOUT_MS, which counts as a connection failure.
      req.on('socket', socket => {
        if (!socket.connecting) {
          return;
        }
        const timer = setTimeout(
          () =>
            req.destroy(
              new Error(`no connection within ${CONNECT_TIMEOUT_MS} ms`)
            ),
          CONNECT_TIMEOUT_MS
        );
        socket.once('connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      req.on('error', (err: Error) => {
        if (!answered) {
          reject(
            signal.aborted ? err : new ConnectFailure(err, req.reusedSocket)
          );
        }
      });
      req.end(payload);
    });
  }

  private async readAnswer(answer: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of answer) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > MAX_BUFFERED_ANSWER) {
        throw new OpenAIError(
          502,
          'The model server answered more than the gateway accepts.',
          'server_error',
          'upstream_error'
        );
      }
      chunks.push(b);
    }
    return Buffer.concat(chunks);
  }

  /**
   * Passes an SSE answer through event by event as it arrives, reading the usage of
   * the final chunk; that chunk is dropped (or its `usage` removed) when the client
   * did not ask for usage itself.
   */
  private relayStream(
    answer: IncomingMessage,
    res: ServerResponse,
    clientWantsUsage: boolean,
    model: string
  ): Promise<{ reported: ITokens | null; chunks: number; complete: boolean }> {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no'
    });
    res.flushHeaders();
    const parser = new SseUsage(clientWantsUsage, new ModelName(model));
    return new Promise(resolve => {
      let done = false;
      const finish = (complete: boolean): void => {
        if (done) {
          return;
        }
        done = true;
        const tail = parser.end();
        if (complete && tail !== '') {
          res.write(tail);
        }
        if (complete) {
          res.end();
        } else {
          answer.destroy();
          res.destroy();
        }
        resolve({ reported: parser.usage, chunks: parser.chunks, complete });
      };
      answer.setEncoding('utf8');
      answer.on('data', (chunk: string) => {
        const out = parser.push(chunk);
        if (out !== '' && !res.write(out)) {
          answer.pause();
          res.once('drain', () => answer.resume());
        }
      });
      answer.on('end', () => finish(true));
      answer.on('error', () => finish(false));
      answer.on('aborted', () => finish(false));
      res.on('close', () => finish(res.writableFinished));
    });
  }

  /** Releases the kept-alive upstream connections. */
  close(): void {
    this.agent.destroy();
    this.tlsAgent.destroy();
  }
}

/** The usage an answer reports; null when it reports none. */
function usageOfAnswer(body: Buffer): ITokens | null {
  const parsed = AnswerSchema.safeParse(jsonOrText(body));
  return parsed.success && parsed.data.usage
    ? tokensOf(parsed.data.usage)
    : null;
}

/** A body as JSON, or as its text when it is not JSON. */
function jsonOrText(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text.trim() === '' ? null : { message: text.trim() };
  }
}

/**
 * Shows the endpoint's model name where the model server answers with its own (llama-server
 * answers with the model's file path): the first `"model":"…"` of a JSON text is
 * replaced, as text, without parsing.
 */
export class ModelName {
  private upstream: string | null = null;
  private readonly ours: string;

  constructor(model: string) {
    this.ours = `"model":${JSON.stringify(model)}`;
  }

  apply(text: string): string {
    if (this.upstream === null) {
      const m = /"model":"(?:[^"\\]|\\.)*"/.exec(text);
      if (m === null) {
        return text;
      }
      this.upstream = m[0];
    }
    return this.upstream === this.ours
      ? text
      : text.replace(this.upstream, this.ours);
  }
}

const ChunkSchema = z.looseObject({
  choices: z.array(z.unknown()).optional(),
  usage: UsageSchema.nullish()
});

/**
 * Splits an SSE stream into events and reads the usage. Each complete event is
 * returned as soon as its blank line arrived; partial events wait for the rest.
 * Without a usage chunk (an aborted stream), the content chunks seen count as
 * completion tokens (one token per chunk, as llama.cpp and vLLM stream them). An
 * error event is passed on in OpenAI's error shape.
 */
export class SseUsage {
  private buffer = '';
  /** The usage the stream reported; null until (unless) it does. */
  usage: ITokens | null = null;
  /** Content chunks passed on. */
  chunks = 0;

  constructor(
    private readonly keepUsage: boolean,
    private readonly model: ModelName
  ) {}

  push(text: string): string {
    this.buffer += text;
    let out = '';
    for (;;) {
      const m = /\r?\n\r?\n/.exec(this.buffer);
      if (m === null) {
        return out;
      }
      const event = this.buffer.slice(0, m.index);
      const sep = m[0];
      this.buffer = this.buffer.slice(m.index + sep.length);
      const kept = this.event(event);
      if (kept !== null) {
        out += kept + sep;
      }
    }
  }

  /** What is left at the end (an event without its blank line). */
  end(): string {
    const rest = this.buffer;
    this.buffer = '';
    if (rest.trim() === '') {
      return rest;
    }
    return this.event(rest) ?? '';
  }

  /** The event to pass on (possibly rewritten), or null to drop it. */
  private event(raw: string): string | null {
    const event = this.model.apply(raw);
    const error = event.includes('"error"') ? errorEvent(event) : null;
    if (error !== null) {
      return error;
    }
    if (!event.includes('"usage"')) {
      // The common case, a token: no JSON parse.
      if (event.includes('"choices":[{')) {
        this.chunks += 1;
      }
      return event;
    }
    const lines = event.split(/\r?\n/);
    const dataLines = lines.filter(l => l.startsWith('data:'));
    if (dataLines.length !== 1) {
      return event;
    }
    const data = (dataLines[0] as string).slice(5).trim();
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return event;
    }
    const parsed = ChunkSchema.safeParse(json);
    if (!parsed.success) {
      return event;
    }
    const { usage, choices } = parsed.data;
    if (usage === undefined || usage === null) {
      if ((choices?.length ?? 0) > 0) {
        this.chunks += 1;
      }
      return event;
    }
    this.usage = tokensOf(usage);
    if (this.keepUsage) {
      return event;
    }
    if (choices === undefined || choices.length === 0) {
      return null;
    }
    // A final chunk that carries both the last choice and the usage: keep the choice.
    const rest = { ...(json as Record<string, unknown>) };
    delete rest.usage;
    return lines
      .map(l => (l.startsWith('data:') ? `data: ${JSON.stringify(rest)}` : l))
      .join('\n');
  }
}

const ErrorEventSchema = z.looseObject({ error: z.unknown() });

/**
 * An SSE event whose data is `{error: …}`, with that error in OpenAI's shape; null
 * for any other event.
 */
function errorEvent(event: string): string | null {
  const lines = event.split(/\r?\n/);
  const dataLines = lines.filter(l => l.startsWith('data:'));
  if (dataLines.length !== 1) {
    return null;
  }
  let json: unknown;
  try {
    json = JSON.parse((dataLines[0] as string).slice(5).trim());
  } catch {
    return null;
  }
  const parsed = ErrorEventSchema.safeParse(json);
  if (!parsed.success || parsed.data.error === undefined) {
    return null;
  }
  const e = parsed.data.error;
  const code =
    typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
  const status = typeof code === 'number' && code >= 400 ? code : 500;
  const body = normaliseUpstreamError(status, json);
  return lines
    .map(l => (l.startsWith('data:') ? `data: ${JSON.stringify(body)}` : l))
    .join('\n');
}
