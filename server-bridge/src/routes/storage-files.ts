/** Storage tiers over HTTP: tiers, folders, file content, copies, code access. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
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
  TierListSchema,
  TransferParamsSchema,
  TransferSchema,
  UploadQuerySchema,
  UploadResultSchema
} from '../contract';
import { policy } from '../auth/policy';
import { userOf } from '../auth/plugin';
import { HttpError } from '../errors';
import {
  authErrorResponses,
  declareRoute,
  type IStorageContext
} from './context';
import {
  storageErrors,
  STREAM_BODY_LIMIT,
  TIER,
  declaredLength,
  rawBody,
  parseRange,
  sendContent,
  onTier,
  onTierWith
} from './storage-http';

export const storageFileRoutes: FastifyPluginAsyncZod<IStorageContext> = async (
  app,
  ctx
) => {
  const { storage } = ctx;

  app.get(
    `${API_PREFIX}/tiers`,
    declareRoute('storage', policy.user(), {
      summary: 'The storage tiers you may see, with usage and quota',
      description:
        'Usage per scope (your root, or per group): the last measured figure, adjusted at once for writes through the bridge, measured again in the background when older than about 30 s; null when it could not be measured in time.',
      response: { 200: TierListSchema, ...authErrorResponses }
    }),
    async request => ({ tiers: await storage.tiers(userOf(request)) })
  );

  app.get(
    `${TIER}/files`,
    onTier({
      summary: 'One page of a folder',
      description:
        'Pass `nextCursor` as `cursor` for the next page. On a `{group}` tier the root lists your groups.',
      querystring: FileListQuerySchema,
      response: { 200: FileListSchema, ...storageErrors }
    }),
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
    onTier({
      summary: 'Delete a file or a folder with everything in it',
      querystring: PathQuerySchema,
      response: { 204: z.null(), ...storageErrors }
    }),
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
    onTier({
      summary: 'One file or folder',
      querystring: PathQuerySchema,
      response: { 200: FileEntrySchema, ...storageErrors }
    }),
    async request =>
      storage.files.stat(
        userOf(request),
        request.params.tier,
        request.query.path
      )
  );

  app.get(
    `${TIER}/content`,
    onTier({
      summary: 'The bytes of a file (streamed; Range → 206)',
      description:
        'Content-Type from the extension; `download=true` adds Content-Disposition: attachment.',
      querystring: ContentQuerySchema,
      produces: ['application/octet-stream'],
      response: { ...storageErrors, 416: ErrorBodySchema }
    }),
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
      bodyLimit: STREAM_BODY_LIMIT,
      ...onTier({
        summary: 'Upload a file as one stream',
        description:
          'Body: the raw bytes (application/octet-stream) with Content-Length (411 without). Optional header x-checksum-sha256 (hex). The quota is checked from Content-Length before any byte is written (413 quota_exceeded). Nothing is visible at `path` until every byte arrived and matched.',
        querystring: UploadQuerySchema,
        consumes: ['application/octet-stream'],
        response: {
          201: UploadResultSchema,
          411: ErrorBodySchema,
          ...storageErrors
        }
      })
    },
    async (request, reply) => {
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
      return reply.status(201).send(result);
    }
  );

  app.post(
    `${TIER}/mkdir`,
    onTier({
      summary: 'Create a folder (and its parents)',
      body: MkdirSchema,
      response: { 201: FileEntrySchema, ...storageErrors }
    }),
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
    onTier({
      summary:
        'Move a file or folder within the tier (409 when the target exists)',
      body: RenameSchema,
      response: { 200: FileEntrySchema, ...storageErrors }
    }),
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
    onTier({
      summary: 'Copy a file or folder, within the tier or to another tier',
      description:
        'Runs on the server; answers 202 with a transfer to follow with GET /transfers/{id}. Quota checked before the copy starts.',
      body: CopySchema,
      response: { 202: TransferSchema, ...storageErrors }
    }),
    async (request, reply) =>
      reply
        .status(202)
        .send(await storage.transfers.start(...onTierWith(request)))
  );

  app.get(
    `${API_PREFIX}/transfers/:id`,
    declareRoute('storage', policy.owned('transfer'), {
      summary: 'Progress of one of your copies',
      params: TransferParamsSchema,
      response: { 200: TransferSchema, ...storageErrors }
    }),
    async request => storage.transfers.get(userOf(request), request.params.id)
  );

  app.post(
    `${TIER}/code-access`,
    onTier({
      summary: 'A presigned URL or the cluster path, with code snippets',
      description:
        "S3 tiers: a presigned GET URL valid for expiresInSeconds (with download=true the store answers it as an attachment under the file's name: what the panel's Download uses for S3 tiers). Sftp tiers: the absolute path on the cluster. Refused (403) on sensitive tiers.",
      body: CodeAccessRequestSchema,
      response: { 200: CodeAccessSchema, ...storageErrors }
    }),
    async request =>
      storage.codeAccess.grant(
        userOf(request),
        request.params.tier,
        request.body
      )
  );
};
