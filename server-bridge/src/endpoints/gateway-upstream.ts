/** The connections to a replica: one upstream request, with the documented retry. */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
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

/** The replicas' kept-alive connections and the requests sent over them. */
export class UpstreamClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly tlsAgent = new https.Agent({
    keepAlive: true,
    maxSockets: 256
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
  ): Promise<{ answer: IncomingMessage; upstream: IUpstream }> {
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

  /** Releases the kept-alive connections. */
  close(): void {
    this.agent.destroy();
    this.tlsAgent.destroy();
  }
}
