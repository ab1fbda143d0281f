/** The connections to a replica: one upstream request, with the documented retry. */
import type { Readable } from 'node:stream';
import { Agent } from 'undici';
import type { ForwardedPath } from './gateway-body';
import { OpenAIError } from './gateway-errors';
import type { IEndpointRouter, IUpstream } from './ports';

/** How long connecting to a replica may take before it counts as unreachable. */
const CONNECT_TIMEOUT_MS = 10_000;

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

/** A replica's answer: its status, its content type and the body as it arrives. */
export interface IUpstreamAnswer {
  readonly statusCode: number;
  readonly contentType: string;
  readonly body: Readable;
}

/** The replicas' kept-alive connections (undici) and the requests sent over them. */
export class UpstreamClient {
  // No header or body timeout: a long completion answers only when it is done, and
  // the client's leaving (the signal) is what ends a request early.
  private readonly pool = new Agent({
    connections: 256,
    connect: { timeout: CONNECT_TIMEOUT_MS },
    headersTimeout: 0,
    bodyTimeout: 0
  });
  private readonly freshConnections = new Agent({
    pipelining: 0,
    connect: { timeout: CONNECT_TIMEOUT_MS },
    headersTimeout: 0,
    bodyTimeout: 0
  });

  constructor(
    private readonly router: IEndpointRouter,
    private readonly warn?: (
      details: Record<string, unknown>,
      message: string
    ) => void
  ) {}

  /** Opens the upstream request, with the documented retry. */
  async send(
    endpointId: string,
    path: ForwardedPath,
    payload: Buffer,
    signal: AbortSignal,
    progress: { sent: boolean }
  ): Promise<{ answer: IUpstreamAnswer; upstream: IUpstream }> {
    const { router } = this;
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
        this.warn?.(
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
  private async request(
    upstream: IUpstream,
    path: ForwardedPath,
    payload: Buffer,
    signal: AbortSignal,
    fresh: boolean
  ): Promise<IUpstreamAnswer> {
    const url = upstreamUrl(upstream.baseUrl, path);
    const headers = {
      authorization: `Bearer ${upstream.apiKey}`,
      'content-type': 'application/json',
      'content-length': String(payload.length),
      accept: 'application/json, text/event-stream'
    };
    try {
      const answer = await (fresh ? this.freshConnections : this.pool).request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers,
        body: payload,
        signal
      });
      const type = answer.headers['content-type'];
      return {
        statusCode: answer.statusCode,
        contentType: Array.isArray(type) ? (type[0] ?? '') : (type ?? ''),
        body: answer.body
      };
    } catch (err) {
      if (signal.aborted) {
        throw err;
      }
      throw new ConnectFailure(asError(err), reusedConnection(err));
    }
  }

  /** Releases the kept-alive connections. */
  close(): void {
    void this.pool.destroy();
    void this.freshConnections.destroy();
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * A connection closed under the request ("other side closed", a reset): on a kept-alive
 * connection the replica may simply have closed it meanwhile. undici does not say whether
 * the connection was reused, so the first such failure is tried once on a new connection.
 */
function reusedConnection(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
}
