import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { checkBackends, worstOf } from '../admin/health-checks';
import { HealthSchema, Routes } from '../contract';
import { authErrorResponses, SECURITY, type IRouteContext } from './context';
import { policy } from '../auth/policy';

export const healthRoutes: FastifyPluginAsyncZod<IRouteContext> = async (
  app,
  ctx
) => {
  app.get(
    Routes.health,
    {
      config: policy.user(),
      schema: {
        summary:
          'Status of the hub, each cluster (ssh + slurmctld) and each S3 endpoint',
        tags: ['meta'],
        security: SECURITY,
        response: { 200: HealthSchema, ...authErrorResponses }
      }
    },
    async () => {
      const components = await checkBackends(ctx);
      return {
        status: worstOf(components.map(c => c.status)),
        version: ctx.version,
        components
      };
    }
  );
};
