/** Share links of public tiers, and the anonymous route that serves them. */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  API_PREFIX,
  ErrorBodySchema,
  ShareLinkCreateSchema,
  ShareLinkListSchema,
  ShareLinkParamsSchema,
  ShareLinkSchema
} from '../contract';
import { policy } from '../auth/policy';
import { userOf } from '../auth/plugin';
import {
  authErrorResponses,
  publicErrorResponses,
  declareRoute,
  type IStorageContext
} from './context';
import {
  storageErrors,
  TIER,
  sendContent,
  onTier,
  onTierWith
} from './storage-http';

export const storageLinkRoutes: FastifyPluginAsyncZod<IStorageContext> = async (
  app,
  ctx
) => {
  const { storage } = ctx;

  /** `https://hub.example.org/services/hpc-bridge` for share links. */
  const publicBase = (request: FastifyRequest): string =>
    `${ctx.linkBaseUrl ?? `${request.protocol}://${request.host}`}${ctx.basePath.replace(/\/+$/, '')}`;

  app.post(
    `${TIER}/links`,
    onTier({
      summary: 'Share a file by an anonymous link (public tiers only)',
      description:
        'Other classes answer 403 with the rule. The link works without logging in until it expires or is revoked.',
      body: ShareLinkCreateSchema,
      response: { 201: ShareLinkSchema, ...storageErrors }
    }),
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await storage.links.create(
            ...onTierWith(request),
            publicBase(request)
          )
        )
  );

  app.get(
    `${TIER}/links`,
    onTier({
      summary: 'Your share links on this tier, newest first',
      response: { 200: ShareLinkListSchema, ...storageErrors }
    }),
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
    declareRoute('storage', policy.user(), {
      summary: 'All your share links, newest first',
      response: { 200: ShareLinkListSchema, ...authErrorResponses }
    }),
    async request => ({
      links: storage.links.list(userOf(request), publicBase(request))
    })
  );

  app.delete(
    `${API_PREFIX}/links/:id`,
    declareRoute('storage', policy.owned('link'), {
      summary: 'Revoke one of your share links (it answers 404 from then on)',
      params: ShareLinkParamsSchema,
      response: { 200: ShareLinkSchema, ...storageErrors }
    }),
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
      config: policy.public(
        'the unguessable link id is the credential; 404 once expired or revoked'
      ),
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
};
