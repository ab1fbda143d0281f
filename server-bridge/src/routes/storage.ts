/**
 * Storage tiers over HTTP. JSON everywhere except the file bytes: `PUT …/content` and the
 * part PUTs take the raw body as a stream (never buffered; Content-Length required, the
 * quota bounds it), `GET …/content` and public links stream the file (Range supported).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import {
  API_PREFIX,
  CodeAccessRequestSchema,
  CodeAccessSchema,
  ContentQuerySchema,
  CopySchema,
  ErrorBodySchema,
  FileEntrySchema,
  FileListQuerySchema,
  FileListSchema,
  MkdirSchema,
  PathQuerySchema,
  RenameSchema,
  ShareLinkCreateSchema,
  ShareLinkListSchema,
  ShareLinkParamsSchema,
  ShareLinkSchema,
  TierListSchema,
  TierParamsSchema,
  TransferParamsSchema,
  TransferSchema,
  UploadCompleteSchema,
  UploadParamsSchema,
  UploadPartParamsSchema,
  UploadQuerySchema,
  UploadResultSchema,
  UploadSessionSchema,
  UploadStartSchema
} from '../contract';
import { userOf } from '../auth/plugin';
import { HttpError } from '../errors';
import type { IByteRange } from '../ports/storage';
import type { IContent } from '../storage/files';
import { contentDisposition, contentTypeOf } from '../storage/paths';
import {
  authErrorResponses,
  publicErrorResponses,
  SECURITY,
  type IStorageContext
} from './context';

const storageErrors = {
  ...authErrorResponses,
  404: ErrorBodySchema,
  409: ErrorBodySchema,
  412: ErrorBodySchema,
  413: ErrorBodySchema
} as const;

/** Large enough for any file; the tier's quota is the real bound. */
const STREAM_BODY_LIMIT = 2 ** 50;

const TIER = `${API_PREFIX}/tiers/:tier`;
const UPLOAD = `${TIER}/uploads/:uploadId`;

const PartResultSchema = z
  .object({ partNumber: z.number().int(), etag: z.string() })
  .meta({ id: 'UploadPart' });

/** The declared body size of a streamed PUT; 411 without one. */
function declaredLength(request: FastifyRequest): number {
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
function rawBody(request: FastifyRequest): IncomingMessage {
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

function sendContent(
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

export const storageRoutes: FastifyPluginAsyncZod<IStorageContext> = async (
  app,
  ctx
) => {
  const { storage } = ctx;
  const base = { onRequest: ctx.requireUser };

  // Raw bytes stay a stream: the handlers pass it on to the tier without buffering.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(
    ['application/octet-stream', '*'],
    { bodyLimit: STREAM_BODY_LIMIT },
    (_request, payload, done) => done(null, payload)
  );

  /** `https://hub.example.org/services/hpc-bridge` for share links. */
  const publicBase = (request: FastifyRequest): string =>
    `${ctx.linkBaseUrl ?? `${request.protocol}://${request.host}`}${ctx.basePath.replace(/\/+$/, '')}`;

  app.get(
    `${API_PREFIX}/tiers`,
    {
      ...base,
      schema: {
        summary: 'The storage tiers you may see, with usage and quota',
        description:
          'Usage is measured per scope (your root, or per group) and cached for about 30 s; null when it could not be measured in time.',
        tags: ['storage'],
        security: SECURITY,
        response: { 200: TierListSchema, ...authErrorResponses }
      }
    },
    async request => ({ tiers: await storage.tiers(userOf(request)) })
  );

  app.get(
    `${TIER}/files`,
    {
      ...base,
      schema: {
        summary: 'One page of a folder',
        description:
          'Pass `nextCursor` as `cursor` for the next page. On a `{group}` tier the root lists your groups.',
        tags: ['storage'],
        security: SECURITY,
        params: TierParamsSchema,
        querystring: FileListQuerySchema,
        response: { 200: FileListSchema, ...storageErrors }
      }
    },
    async request =>
      storage.files.list(
        userOf(request),
        request.params.tier,
        request.query.path,
        request.query.limit,
        request.query.cursor
      )
  );

  app.delete(
    `${TIER}/files`,
    {
      ...base,
      schema: {
        summary: 'Delete a file or a folder with everything in it',
        tags: ['storage'],
        security: SECURITY,
        params: TierParamsSchema,
        querystring: PathQuerySchema,
        response: { 204: z.null(), ...storageErrors }
      }
    },
    async (request, reply) => {
      await storage.files.delete(
        userOf(request),
        request.params.tier,
        request.query.path
      );
      return reply.status(204).send(null);
    }
  );

  app.get(
    `${TIER}/stat`,
    {
      ...base,
      schema: {
        summary: 'One file or folder',
        tags: ['storage'],
        security: SECURITY,
        params: TierParamsSchema,
        querystring: PathQuerySchema,
        response: { 200: FileEntrySchema, ...storageErrors }
      }
    },
    async request =>
      storage.files.stat(
        userOf(request),
        request.params.tier,
        request.query.path
      )
  );

  app.get(
    `${TIER}/content`,
    {
      ...base,
      schema: {
        summary: 'The bytes of a file (streamed; Range → 206)',
        description:
          'Content-Type from the extension; `download=true` adds Content-Disposition: attachment.',
        tags: ['storage'],
        security: SECURITY,
        params: TierParamsSchema,
        querystring: ContentQuerySchema,
        produces: ['application/octet-stream'],
        response: { ...storageErrors, 416: ErrorBodySchema }
      }
    },
    async (request, reply) => {
      const header = request.headers.range;
      const content = await storage.files.read(
        userOf(request),
        request.params.tier,
        request.query.path,
        size => parseRange(header, size)
      );
      return sendContent(
        reply,
        content,
        request.query.path,
        request.query.download === true ? 'attachment' : null
      );
    }
  );

  app.put(
    `${TIER}/content`,
    {
      ...base,
      bodyLimit: STREAM_BODY_LIMIT,
      schema: {
        summary: 'Upload a file as one stream',
        description:
          'Body: the raw bytes (application/octet-stream) with Content-Length (411 without). Optional header x-checksum-sha256 (hex). The quota is checked from Content-Length before any byte is written (413 quota_exceeded). Nothing is visible at `path` until every byte arrived and matched.',
        tags: ['storage'],
        security: SECURITY,
        params: TierParamsSchema,
        querystring: UploadQuerySchema,
        consumes: ['application/octet-stream'],
        response: {
          201: UploadResultSchema,
          411: ErrorBodySchema,
          ...storageErrors
        }
      }
    },
    async (request, reply) => {
      // An early refusal must not wait for gigabytes the client is still sending.
      void reply.header('connection', 'close');
      const size = declaredLength(request);
      const checksum = request.headers['x-checksum-sha256'];
      if (
        checksum !== undefined &&
        (typeof checksum !== 'string' || !/^[0-9a-fA-F]{64}$/.test(checksum))
      ) {
        throw new HttpError(
          'bad_request',
          'x-checksum-sha256 must be 64 hex digits'
        );
      }
      const result = await storage.files.write(
        userOf(request),
        request.params.tier,
        request.query.path,
        rawBody(request),
        {
          size,
          overwrite: request.query.overwrite,
          ...(checksum === undefined ? {} : { sha256: checksum })
        }
      );
      void reply.removeHeader('connection');
      return reply.status(201).send(result);
    }
  );

  app.post(
    `${TIER}/mkdir`,
    {
      ...base,
      schema: {
        summary: 'Create a folder (and its parents)',
        tags: ['storage'],
        security: SECURITY,
        params: TierParamsSchema,
        body: MkdirSchema,
        response: { 201: FileEntrySchema, ...storageErrors }
      }
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await storage.files.mkdir(
            userOf(request),
            request.params.tier,
            request.body.path
          )
        )
  );

  app.post(
    `${TIER}/rename`,
    {
      ...base,
      schema: {
        summary:
          'Move a file or folder within the tier (409 when the target exists)',
        tags: ['storage'],
        security: SECURITY,
        params: TierParamsSchema,
        body: RenameSchema,
        response: { 200: FileEntrySchema, ...storageErrors }
      }
    },
    async request =>
      storage.files.rename(
        userOf(request),
        request.params.tier,
        request.body.from,
        request.body.to
      )
  );

  app.post(
    `${TIER}/copy`,
    {
      ...base,
      schema: {
        summary: 'Copy a file or folder, within the tier or to another tier',
        description:
          'Runs on the server; answers 202 with a transfer to follow with GET /transfers/{id}. Quota checked before the copy starts.',
        tags: ['storage'],
        security: SECURITY,
        params: TierParamsSchema,
        body: CopySchema,
        response: { 202: TransferSchema, ...storageErrors }
      }
    },
    async (request, reply) =>
      reply
        .status(202)
        .send(
          await storage.transfers.start(
            userOf(request),
            request.params.tier,
            request.body
          )
        )
  );

  app.get(
    `${API_PREFIX}/transfers/:id`,
    {
      ...base,
      schema: {
        summary: 'Progress of one of your copies',
        tags: ['storage'],
        security: SECURITY,
        params: TransferParamsSchema,
        response: { 200: TransferSchema, ...storageErrors }
      }
    },
    async request => storage.transfers.get(userOf(request), request.params.id)
  );

  app.post(
    `${TIER}/uploads`,
    {
      ...base,
      schema: {
        summary: 'Start a multipart upload (S3 tiers)',
        description:
          '`direct`: PUT each part to its presigned URL (with Content-MD5), then complete with the ETags. `bridge`: PUT each part to …/uploads/{id}/parts/{n}. Sftp tiers answer 400: upload with PUT …/content.',
        tags: ['storage'],
        security: SECURITY,
        params: TierParamsSchema,
        body: UploadStartSchema,
        response: { 201: UploadSessionSchema, ...storageErrors }
      }
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await storage.uploads.start(
            userOf(request),
            request.params.tier,
            request.body
          )
        )
  );

  app.put(
    `${UPLOAD}/parts/:partNumber`,
    {
      ...base,
      bodyLimit: STREAM_BODY_LIMIT,
      schema: {
        summary:
          'One part of a bridge-mode upload (raw bytes, Content-Length required)',
        description:
          'The part must have exactly the size the session gave (the last one the rest). Optional Content-MD5 is checked against the ETag S3 returns. The answer carries the ETag as a header too.',
        tags: ['storage'],
        security: SECURITY,
        params: UploadPartParamsSchema,
        consumes: ['application/octet-stream'],
        response: {
          200: PartResultSchema,
          411: ErrorBodySchema,
          ...storageErrors
        }
      }
    },
    async (request, reply) => {
      void reply.header('connection', 'close');
      const size = declaredLength(request);
      const { tier, uploadId, partNumber } = request.params;
      const part = await storage.uploads.putPart(
        userOf(request),
        tier,
        uploadId,
        partNumber,
        rawBody(request),
        size
      );
      const md5 = request.headers['content-md5'];
      const etag = part.etag.replace(/"/g, '');
      if (
        typeof md5 === 'string' &&
        /^[0-9a-f]{32}$/.test(etag) &&
        Buffer.from(md5, 'base64').toString('hex') !== etag
      ) {
        throw new HttpError(
          'bad_request',
          `Part ${partNumber} arrived altered (Content-MD5 differs); send it again`
        );
      }
      void reply.removeHeader('connection');
      return reply.header('etag', part.etag).send(part);
    }
  );

  app.post(
    `${UPLOAD}/complete`,
    {
      ...base,
      schema: {
        summary: 'Complete a multipart upload',
        description:
          'Checks the parts S3 holds (count, sizes, sum = declared size, the ETags sent) and aborts the upload on any mismatch (400, nothing written).',
        tags: ['storage'],
        security: SECURITY,
        params: UploadParamsSchema,
        body: UploadCompleteSchema,
        response: { 200: FileEntrySchema, ...storageErrors }
      }
    },
    async request =>
      storage.uploads.complete(
        userOf(request),
        request.params.tier,
        request.params.uploadId,
        request.body
      )
  );

  app.delete(
    UPLOAD,
    {
      ...base,
      schema: {
        summary: 'Abort a multipart upload (its parts are discarded)',
        tags: ['storage'],
        security: SECURITY,
        params: UploadParamsSchema,
        response: { 204: z.null(), ...storageErrors }
      }
    },
    async (request, reply) => {
      await storage.uploads.abort(
        userOf(request),
        request.params.tier,
        request.params.uploadId
      );
      return reply.status(204).send(null);
    }
  );

  app.post(
    `${TIER}/links`,
    {
      ...base,
      schema: {
        summary: 'Share a file by an anonymous link (public tiers only)',
        description:
          'Other classes answer 403 with the rule. The link works without logging in until it expires or is revoked.',
        tags: ['storage'],
        security: SECURITY,
        params: TierParamsSchema,
        body: ShareLinkCreateSchema,
        response: { 201: ShareLinkSchema, ...storageErrors }
      }
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await storage.links.create(
            userOf(request),
            request.params.tier,
            request.body,
            publicBase(request)
          )
        )
  );

  app.get(
    `${TIER}/links`,
    {
      ...base,
      schema: {
        summary: 'Your share links on this tier, newest first',
        tags: ['storage'],
        security: SECURITY,
        params: TierParamsSchema,
        response: { 200: ShareLinkListSchema, ...storageErrors }
      }
    },
    async request => {
      const user = userOf(request);
      storage.core.tier(user, request.params.tier);
      return {
        links: storage.links.list(
          user,
          publicBase(request),
          request.params.tier
        )
      };
    }
  );

  app.get(
    `${API_PREFIX}/links`,
    {
      ...base,
      schema: {
        summary: 'All your share links, newest first',
        tags: ['storage'],
        security: SECURITY,
        response: { 200: ShareLinkListSchema, ...authErrorResponses }
      }
    },
    async request => ({
      links: storage.links.list(userOf(request), publicBase(request))
    })
  );

  app.delete(
    `${API_PREFIX}/links/:id`,
    {
      ...base,
      schema: {
        summary: 'Revoke one of your share links (it answers 404 from then on)',
        tags: ['storage'],
        security: SECURITY,
        params: ShareLinkParamsSchema,
        response: { 200: ShareLinkSchema, ...storageErrors }
      }
    },
    async request =>
      storage.links.revoke(
        userOf(request),
        request.params.id,
        publicBase(request)
      )
  );

  app.get(
    `${API_PREFIX}/public/links/:id`,
    {
      schema: {
        summary: 'Anonymous: the shared file (attachment)',
        description:
          'No login. 404 with one sentence for unknown, expired and revoked links alike.',
        tags: ['storage'],
        params: ShareLinkParamsSchema,
        produces: ['application/octet-stream'],
        response: { 404: ErrorBodySchema, ...publicErrorResponses }
      }
    },
    async (request, reply) => {
      const content = await storage.links.open(request.params.id);
      void reply.header('referrer-policy', 'no-referrer');
      return sendContent(reply, content, content.entry.path, 'attachment');
    }
  );

  app.post(
    `${TIER}/code-access`,
    {
      ...base,
      schema: {
        summary: 'A presigned URL or the cluster path, with code snippets',
        description:
          'S3 tiers: a presigned GET (read) or PUT (write) URL valid for expiresInSeconds. Sftp tiers: the absolute path on the cluster. Refused (403) on sensitive tiers.',
        tags: ['storage'],
        security: SECURITY,
        params: TierParamsSchema,
        body: CodeAccessRequestSchema,
        response: { 200: CodeAccessSchema, ...storageErrors }
      }
    },
    async request =>
      storage.codeAccess.grant(
        userOf(request),
        request.params.tier,
        request.body
      )
  );
};
