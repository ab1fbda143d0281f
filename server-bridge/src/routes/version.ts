import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CONTRACT_VERSION, Routes, VersionSchema } from '../contract';
import { publicErrorResponses, type IRouteContext } from './context';
import { policy } from '../auth/policy';

/** Public: the panels compare versions before they authenticate. */
export const versionRoutes: FastifyPluginAsyncZod<IRouteContext> = async (
  app,
  ctx
) => {
  app.get(
    Routes.version,
    {
      config: policy.public(
        'the panels compare versions before they authenticate; no user data'
      ),
      schema: {
        summary: 'Bridge and contract version',
        tags: ['meta'],
        response: { 200: VersionSchema, ...publicErrorResponses }
      }
    },
    async () => ({
      name: 'hpc-bridge' as const,
      version: ctx.version,
      contract: CONTRACT_VERSION
    })
  );
};
