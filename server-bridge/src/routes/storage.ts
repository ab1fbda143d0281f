/**
 * Storage tiers over HTTP. JSON everywhere except the file bytes: `PUT …/content` and the
 * part PUTs take the raw body as a stream (never buffered; Content-Length required, the
 * quota bounds it), `GET …/content` and public links stream the file (Range supported).
 */ import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { IStorageContext } from './context';
import { named } from './named';
import { storageFileRoutes } from './storage-files';
import { STREAM_BODY_LIMIT } from './storage-http';
import { storageLinkRoutes } from './storage-links';
import { storageUploadRoutes } from './storage-uploads';

export const storageRoutes: FastifyPluginAsyncZod<IStorageContext> = async (
  app,
  ctx
) => {
  // Raw bytes stay a stream: the handlers pass it on to the tier without buffering.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(
    ['application/octet-stream', '*'],
    { bodyLimit: STREAM_BODY_LIMIT },
    (_request, payload, done) => done(null, payload)
  );
  await app.register(named(storageFileRoutes), ctx);
  await app.register(named(storageUploadRoutes), ctx);
  await app.register(named(storageLinkRoutes), ctx);
};
