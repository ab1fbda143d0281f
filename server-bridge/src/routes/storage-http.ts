/**
 * What the storage routes share: error responses, path prefixes, streamed bodies and
 * file answers (Range, safe headers).
 */
import type { FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { API_PREFIX, ErrorBodySchema, TierParamsSchema } from '../contract';
import { policy } from '../auth/policy';
import { HttpError } from '../errors';
import { userOf } from '../auth/plugin';
import type { IAuthUser } from '../auth/decide';
import type { IByteRange } from '../ports/storage';
import type { IContent } from '../storage/files';
import { contentDisposition, contentTypeOf } from '../storage/paths';
import { authErrorResponses, declareRoute } from './context';

export const storageErrors = {
  ...authErrorResponses,
  404: ErrorBodySchema,
  409: ErrorBodySchema,
  412: ErrorBodySchema,
  413: ErrorBodySchema
} as const;

/** Large enough for any file; the tier's quota is the real bound. */
export const STREAM_BODY_LIMIT = 2 ** 50;

export const TIER = `${API_PREFIX}/tiers/:tier`;
export const UPLOAD = `${TIER}/uploads/:uploadId`;

/** The options of a route under `TIER`: the caller must be allowed on the tier. */
export function onTier<S extends FastifySchema>(schema: S) {
  return declareRoute('storage', policy.owned('tier'), {
    ...schema,
    params: TierParamsSchema
  });
}

/** The declared body size of a streamed PUT; 411 without one. */
/** The caller, the tier and the body of a request to a tier route. */
export function onTierWith<B>(
  request: FastifyRequest & { params: { tier: string }; body: B }
): [IAuthUser, string, B] {
  return [userOf(request), request.params.tier, request.body];
}

export function declaredLength(request: FastifyRequest): number {
  const raw = request.headers['content-length'];
  if (raw === undefined || request.headers['transfer-encoding'] !== undefined) {
    throw new HttpError(
      'bad_request',
      'Content-Length is required: send the file with its size (no chunked encoding)',
      undefined,
      411
    );
  }
  if (!/^\d{1,16}$/.test(raw)) {
    throw new HttpError('bad_request', 'Content-Length is not a number');
  }
  return Number(raw);
}

/** The request body as the pass-through parser left it: the raw stream. */
export function rawBody(request: FastifyRequest): IncomingMessage {
  const body = request.body as unknown;
  return (
    body !== null && typeof body === 'object' && 'pipe' in body
      ? body
      : request.raw
  ) as IncomingMessage;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range); undefined → the whole file. */
export function parseRange(
  header: string | undefined,
  size: number
): IByteRange | undefined {
  if (header === undefined) {
    return undefined;
  }
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || (m[1] === '' && m[2] === '')) {
    return undefined;
  }
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    start = Math.max(0, size - suffix);
    end = size - 1;
    if (suffix === 0) {
      start = size;
    }
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) {
    throw new HttpError(
      'bad_request',
      `The range ${header} is outside the file (${size} bytes)`,
      { size },
      416
    );
  }
  return { start, end };
}

export function sendContent(
  reply: FastifyReply,
  content: IContent,
  path: string,
  disposition: 'attachment' | 'inline' | null
): FastifyReply {
  void reply
    .header('content-type', contentTypeOf(path))
    .header('accept-ranges', 'bytes')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', 'sandbox')
    .header('cache-control', 'private, no-store');
  if (content.lastModified !== null) {
    void reply.header('last-modified', content.lastModified.toUTCString());
  }
  if (disposition !== null) {
    void reply.header(
      'content-disposition',
      contentDisposition(path, disposition)
    );
  }
  if (content.range !== undefined) {
    const { start, end } = content.range;
    void reply
      .status(206)
      .header('content-range', `bytes ${start}-${end}/${content.size}`)
      .header('content-length', String(end - start + 1));
  } else {
    void reply.status(200).header('content-length', String(content.size));
  }
  return reply.send(content.body);
}
