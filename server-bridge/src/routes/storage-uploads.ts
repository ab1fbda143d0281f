/**
 * Multipart uploads: a session, parts (presigned straight to the store, or streamed through
 * the bridge), complete and abort.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ErrorBodySchema,
  FileEntrySchema,
  OpenUploadListSchema,
  UploadCompleteSchema,
  UploadParamsSchema,
  UploadPartParamsSchema,
  UploadSessionSchema,
  UploadStartSchema
} from '../contract';
import { policy } from '../auth/policy';
import { userOf } from '../auth/plugin';
import { HttpError } from '../errors';
import { declareRoute, type IStorageContext } from './context';
import {
  storageErrors,
  STREAM_BODY_LIMIT,
  TIER,
  UPLOAD,
  declaredLength,
  rawBody,
  onTier,
  onTierWith
} from './storage-http';

const PartResultSchema = z
  .object({ partNumber: z.number().int(), etag: z.string() })
  .meta({ id: 'UploadPart' });

export const storageUploadRoutes: FastifyPluginAsyncZod<
  IStorageContext
> = async (app, ctx) => {
  const { storage } = ctx;

  app.post(
    `${TIER}/uploads`,
    onTier({
      summary: 'Start a multipart upload (S3 tiers)',
      description:
        '`direct`: PUT each part to its presigned URL (with Content-MD5), then complete with the ETags. `bridge`: PUT each part to …/uploads/{id}/parts/{n}. Sftp tiers answer 400: upload with PUT …/content.',
      body: UploadStartSchema,
      response: { 201: UploadSessionSchema, ...storageErrors }
    }),
    async (request, reply) =>
      reply
        .status(201)
        .send(await storage.uploads.start(...onTierWith(request)))
  );

  app.get(
    `${TIER}/uploads`,
    onTier({
      summary: "The caller's open upload sessions on the tier",
      description:
        'Sessions not yet completed, aborted or expired, oldest first. Their declared sizes count toward the quota until then; expired ones are aborted by a periodic sweep.',
      response: { 200: OpenUploadListSchema, ...storageErrors }
    }),
    async request => ({
      uploads: storage.uploads.list(userOf(request), request.params.tier)
    })
  );

  app.put(
    `${UPLOAD}/parts/:partNumber`,
    {
      bodyLimit: STREAM_BODY_LIMIT,
      ...declareRoute('storage', policy.owned('upload'), {
        summary:
          'One part of a bridge-mode upload (raw bytes, Content-Length required)',
        description:
          'The part must have exactly the size the session gave (the last one the rest). Optional Content-MD5 is checked against the ETag S3 returns. The answer carries the ETag as a header too.',
        params: UploadPartParamsSchema,
        consumes: ['application/octet-stream'],
        response: {
          200: PartResultSchema,
          411: ErrorBodySchema,
          ...storageErrors
        }
      })
    },
    async (request, reply) => {
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
      return reply.header('etag', part.etag).send(part);
    }
  );

  app.post(
    `${UPLOAD}/complete`,
    declareRoute('storage', policy.owned('upload'), {
      summary: 'Complete a multipart upload',
      description:
        'Checks the parts S3 holds (count, sizes, sum = declared size, the ETags sent) and aborts the upload on any mismatch (400, nothing written); parts over the reservation abort with 413, and with `overwrite: false` a file created meanwhile aborts with 409.',
      params: UploadParamsSchema,
      body: UploadCompleteSchema,
      response: { 200: FileEntrySchema, ...storageErrors }
    }),
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
    declareRoute('storage', policy.owned('upload'), {
      summary:
        'Abort a multipart upload (its parts are discarded, its reservation released)',
      params: UploadParamsSchema,
      response: { 204: z.null(), ...storageErrors }
    }),
    async (request, reply) => {
      await storage.uploads.abort(
        userOf(request),
        request.params.tier,
        request.params.uploadId
      );
      return reply.status(204).send(null);
    }
  );
};
