/**
 * Clients that misbehave below the routes: malformed or oversized URLs and headers get
 * the one error shape (not Fastify's or Node's own body), and slow clients (slowloris)
 * have their connections closed by the bridge itself.
 */
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest
} from 'fastify';
import type { Socket } from 'node:net';
import { errorBody } from './errors';

/** The complete request headers must arrive within this time of connecting. */
export const HEADERS_TIMEOUT_MS = 15_000;
/**
 * A request body that sends no byte for this long is dropped. Not a limit on the whole
 * request: a streamed upload of many GiB may take hours, it just never goes silent.
 */
export const BODY_IDLE_MS = 60_000;

/**
 * Fastify's answers to a URL its router cannot take (a malformed %-escape, a parameter
 * over `maxParamLength`), in the bridge's error shape.
 */
function frameworkErrors(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply
): void {
  const status = error.statusCode ?? 400;
  const message =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'A part of the URL is too long'
      : error.code === 'FST_ERR_BAD_URL'
        ? 'The URL is not valid (a malformed %-escape)'
        : 'The request cannot be routed';
  // These answers skip the routes' hooks, the drain before a reply among them.
  void drained(request, reply).then(() =>
    reply
      .status(status >= 400 && status < 500 ? status : 400)
      .send(errorBody('bad_request', message))
  );
}

/** Node's answers to bytes that are not a request it can parse, in the error shape. */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) {
    return;
  }
  const [status, reason, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'The request did not arrive in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [
            431,
            'Request Header Fields Too Large',
            'The request headers are too large'
          ]
        : [400, 'Bad Request', 'The request is not valid HTTP'];
  const body = JSON.stringify(errorBody('bad_request', message));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
    );
  }
  socket.destroy(err);
}

/** Options of the Fastify instance for the above (the timeouts apply once it listens). */
export const httpLimitOptions = {
  frameworkErrors,
  clientErrorHandler,
  http: {
    headersTimeout: HEADERS_TIMEOUT_MS,
    // How often Node looks for connections over headersTimeout (default: 30 s).
    connectionsCheckingInterval: 5_000
  }
};

/**
 * Drops a connection whose request body goes silent for `idleMs` (the socket's idle
 * timeout, armed while a declared body is arriving and cleared once it ended, so that
 * long answers such as event streams are not cut).
 */
export function dropStalledBodies(
  app: FastifyInstance,
  idleMs = BODY_IDLE_MS
): void {
  app.addHook('onRequest', async request => {
    const raw = request.raw;
    const length = Number(raw.headers['content-length'] ?? 0);
    const declaresBody =
      raw.headers['transfer-encoding'] !== undefined || length > 0;
    if (!declaresBody || raw.complete) {
      return;
    }
    const socket = raw.socket;
    // Requests injected in tests (light-my-request) have no real socket.
    if (typeof socket?.setTimeout !== 'function') {
      return;
    }
    socket.setTimeout(idleMs);
    raw.once('end', () => socket.setTimeout(0));
  });
}

/**
 * Request bodies up to this size are read to their end before an early answer: over every
 * route's own limit (64 MiB for a notebook), so that each refusal reaches a proxied client.
 * Reading and dropping costs no memory; a body over it is cut off.
 */
export const DRAIN_BEFORE_REPLY_BYTES = 1024 * 1024 * 1024;

/**
 * An answer that comes before the request body has arrived (a 401 from the auth hook, a
 * 413, a GET that carries a body) waits until the rest of a body of at most `maxBytes`
 * is read and dropped. A reverse proxy still writing the body (JupyterHub's
 * configurable-http-proxy) would otherwise see its write fail and answer 503 in place of
 * the bridge's own error. Larger bodies are cut off as before (the connection closes).
 */
export function drainBeforeReply(
  app: FastifyInstance,
  maxBytes = DRAIN_BEFORE_REPLY_BYTES
): void {
  app.addHook('onSend', async (request, reply, payload) => {
    await drained(request, reply, maxBytes);
    return payload;
  });
}

/**
 * Resolves once the request's body has been read and dropped (at most `maxBytes`; a
 * larger or unknown amount gets `Connection: close` on the answer instead).
 */
async function drained(
  request: FastifyRequest,
  reply: FastifyReply,
  maxBytes = DRAIN_BEFORE_REPLY_BYTES
): Promise<void> {
  const raw = request.raw;
  const length = Number(raw.headers['content-length'] ?? 0);
  const declaresBody =
    raw.headers['transfer-encoding'] !== undefined || length > 0;
  if (
    !declaresBody ||
    raw.complete ||
    raw.readableEnded ||
    raw.destroyed ||
    typeof raw.socket?.setTimeout !== 'function'
  ) {
    return;
  }
  if (!(length > 0 && length <= maxBytes)) {
    // Too much (or an unknown amount) to read: say that the connection ends here, so
    // that no client or proxy sends its next request on it.
    void reply.header('connection', 'close');
    return;
  }
  await new Promise<void>(resolve => {
    raw.once('end', resolve);
    raw.once('close', resolve);
    raw.once('error', resolve);
    raw.unpipe();
    raw.resume();
  });
}
