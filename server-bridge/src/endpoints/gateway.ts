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
import type { ServerResponse } from 'node:http';
import {
  DEFAULT_TOKEN_LIMITS,
  type ForwardedPath,
  type GatewayBody,
  type IPreparedRequest,
  type ITokenLimits,
  prepareRequest
} from './gateway-body';
import {
  type IRelayed,
  type ITokens,
  jsonOrText,
  ModelName,
  readAnswer,
  relayStream,
  usageOfAnswer
} from './gateway-answer';
import { normaliseUpstreamError, OpenAIError } from './gateway-errors';
import type { GatewayOverhead } from './gateway-overhead';
import { type IUpstreamAnswer, UpstreamClient } from './gateway-upstream';
import { bearerOf, type EndpointKeys, type IResolvedKey } from './keys';
import type { IEndpointRouter, IUpstream } from './ports';
import type { EndpointUsage, IReservation } from './usage';

const UNAUTHENTICATED = (message: string): OpenAIError =>
  new OpenAIError(401, message, 'invalid_request_error', 'invalid_api_key', {
    'www-authenticate': 'Bearer'
  });

const NOTHING: ITokens = { prompt: 0, completion: 0 };

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
  /** The gateway's own time on the request, shown on the answer. */
  overhead: GatewayOverhead;
  /** The client's connection: closed → the upstream request is aborted. */
  res: ServerResponse;
  /** Called just before the first byte is written to `res` (Fastify's hijack). */
  takeOver: () => void;
  /** The text of a streamed answer, as it is passed on to `res` (the bridge's own callers). */
  onChunk?: (text: string) => void;
  /**
   * A streamed answer's usage so far, counted as its settlement would, just before its
   * `data: [DONE]` (or, without one, its end) is written to `res`: what the caller keeps
   * of the answer is then there when the client sees it end. Not called for an answer
   * cut before that; it must not throw.
   */
  beforeDone?: (tokens: ITokens) => void;
  /** The request's usage, once it is settled (whatever happened to it). */
  onSettled?: (tokens: ITokens, error: boolean) => void;
}

/** A forwarded request on its way: the client's abort and the one settlement of its reservation. */
interface IExchange {
  request: IForwardRequest;
  signal: AbortSignal;
  settle: (tokens: ITokens, error: boolean) => void;
}

export class Gateway {
  private readonly upstreams: UpstreamClient;
  private readonly now: () => number;

  constructor(private readonly options: IGatewayOptions) {
    this.now = options.now ?? Date.now;
    this.upstreams = new UpstreamClient(options.router, options.warn);
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

  /** See `prepareRequest`; the model is the key's endpoint's. */
  prepare(
    key: IResolvedKey,
    path: ForwardedPath,
    request: GatewayBody
  ): IPreparedRequest {
    return prepareRequest(
      this.model(key, request.model),
      path,
      request,
      model => this.options.tokenLimits?.(model) ?? DEFAULT_TOKEN_LIMITS
    );
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
    const served = this.options.router.modelOf(key.endpointId);
    if (served === null) {
      throw new OpenAIError(
        404,
        'The endpoint of this key no longer exists.',
        'invalid_request_error',
        'model_not_found'
      );
    }
    if (requested !== undefined && !served.accepts.includes(requested)) {
      throw new OpenAIError(
        404,
        `The model ${JSON.stringify(requested)} does not exist here: this key's endpoint serves ${JSON.stringify(served.name)}.`,
        'invalid_request_error',
        'model_not_found'
      );
    }
    return served.name;
  }

  /**
   * `GET /v1/models`: what the key may name as its model, the served model first, then
   * the endpoint's own name (and, during a roll, the model rolled from).
   */
  models(key: IResolvedKey): {
    object: 'list';
    data: { id: string; object: 'model'; created: number; owned_by: string }[];
  } {
    const served = this.model(key);
    const accepts = this.options.router.modelOf(key.endpointId)?.accepts ?? [];
    const ids = [...new Set([served, ...accepts])];
    return {
      object: 'list',
      data: ids.map(id => ({
        id,
        object: 'model' as const,
        created: 0,
        owned_by: key.owner
      }))
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
    const { key, res } = request;
    const ac = new AbortController();
    const onClose = (): void => {
      if (!res.writableFinished) {
        ac.abort();
      }
    };
    res.on('close', onClose);
    this.options.router.touched(key.endpointId);
    const exchange: IExchange = {
      request,
      signal: ac.signal,
      settle: this.settlement(request)
    };
    try {
      const { answer, upstream } = await this.reach(exchange);
      this.refuseIfGatewayRejected(exchange, answer, upstream);
      await this.passAnswer(exchange, answer, upstream);
    } finally {
      res.off('close', onClose);
    }
  }

  /** Records the request's usage against its reservation, the first time only. */
  private settlement(request: IForwardRequest): IExchange['settle'] {
    const { key, reservation } = request;
    let settled = false;
    return (tokens, error) => {
      if (settled) {
        return;
      }
      settled = true;
      request.onSettled?.(tokens, error);
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
  }

  /** Sends the request to a replica; 499 when the client left meanwhile. */
  private async reach(
    exchange: IExchange
  ): Promise<{ answer: IUpstreamAnswer; upstream: IUpstream }> {
    const { key, path, prepared, overhead } = exchange.request;
    const progress = { sent: false };
    try {
      return await overhead.waitFor(
        this.upstreams.send(
          key.endpointId,
          path,
          prepared.payload,
          exchange.signal,
          progress
        )
      );
    } catch (e) {
      const aborted = exchange.signal.aborted;
      exchange.settle(
        aborted && progress.sent ? promptOnly(prepared) : NOTHING,
        true
      );
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
  }

  /** A replica that refuses the gateway's own key is reported, and the client gets 502. */
  private refuseIfGatewayRejected(
    exchange: IExchange,
    answer: IUpstreamAnswer,
    upstream: IUpstream
  ): void {
    const status = answer.statusCode;
    if (status !== 401 && status !== 403) {
      return;
    }
    answer.body.resume();
    this.options.router.upstreamFailed(
      exchange.request.key.endpointId,
      upstream.replicaId,
      `the replica refused the gateway's key (HTTP ${status})`
    );
    exchange.settle(NOTHING, true);
    throw new OpenAIError(
      502,
      'The model server refused the gateway; the replica is being checked. Try again.',
      'server_error',
      'upstream_error'
    );
  }

  /**
   * Passes the answer to the client, streamed or whole; an answer cut after its
   * first byte is logged and the client's connection closed.
   */
  private async passAnswer(
    exchange: IExchange,
    answer: IUpstreamAnswer,
    upstream: IUpstream
  ): Promise<void> {
    const { key, res, prepared } = exchange.request;
    const status = answer.statusCode;
    const { contentType } = answer;
    try {
      if (status === 200 && contentType.startsWith('text/event-stream')) {
        await this.relay(exchange, answer);
      } else {
        await this.replyWhole(exchange, answer, status, contentType);
      }
    } catch (e) {
      exchange.settle(promptOnly(prepared), true);
      if (!res.headersSent && !exchange.signal.aborted) {
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
    }
  }

  private async relay(
    exchange: IExchange,
    answer: IUpstreamAnswer
  ): Promise<void> {
    const { res, prepared, overhead, onChunk, beforeDone } = exchange.request;
    const used = (r: IRelayed): ITokens =>
      r.reported ?? { prompt: prepared.promptEstimate, completion: r.chunks };
    exchange.request.takeOver();
    const result = await relayStream(
      answer.body,
      res,
      prepared.clientWantsUsage,
      prepared.model,
      overhead.headers(),
      {
        ...(onChunk === undefined ? {} : { onChunk }),
        ...(beforeDone === undefined
          ? {}
          : { beforeDone: r => beforeDone(used(r)) })
      }
    );
    exchange.settle(used(result), !result.complete);
  }

  /** A non-streaming answer, read whole: errors in OpenAI's shape, the model renamed. */
  private async replyWhole(
    exchange: IExchange,
    answer: IUpstreamAnswer,
    status: number,
    contentType: string
  ): Promise<void> {
    const { res, prepared, overhead } = exchange.request;
    const ok = status >= 200 && status < 300;
    let buffered = await overhead.waitFor(readAnswer(answer.body));
    let type = contentType === '' ? 'application/json' : contentType;
    if (!ok) {
      buffered = Buffer.from(
        JSON.stringify(normaliseUpstreamError(status, jsonOrText(buffered)))
      );
      type = 'application/json';
    } else if (contentType.startsWith('application/json')) {
      buffered = Buffer.from(
        new ModelName(prepared.model).apply(buffered.toString('utf8'))
      );
    }
    exchange.request.takeOver();
    res.writeHead(status, {
      'content-type': type,
      'content-length': String(buffered.length),
      'cache-control': 'no-store',
      ...overhead.headers()
    });
    res.end(buffered);
    exchange.settle(
      usageOfAnswer(buffered) ??
        (ok
          ? {
              prompt: prepared.promptEstimate,
              completion: prepared.completionMax
            }
          : NOTHING),
      !ok
    );
  }

  /** Releases the kept-alive upstream connections. */
  close(): void {
    this.upstreams.close();
  }
}

function promptOnly(prepared: IPreparedRequest): ITokens {
  return { prompt: prepared.promptEstimate, completion: 0 };
}
