import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorBodySchema, Routes, SshCredentialSchema } from '../contract';
import { policy } from '../auth/policy';
import { userOf } from '../auth/plugin';
import { HttpError } from '../errors';
import { authErrorResponses, SECURITY, type IJobsContext } from './context';

export const credentialsRoutes: FastifyPluginAsyncZod<IJobsContext> = async (
  app,
  ctx
) => {
  app.get(
    Routes.sshCredential,
    {
      config: policy.user(),
      schema: {
        summary:
          'Your SSH public key for a cluster (created on first call), with install instructions',
        tags: ['credentials'],
        security: SECURITY,
        querystring: z.object({ cluster: z.string().max(64).optional() }),
        response: {
          200: SshCredentialSchema,
          404: ErrorBodySchema,
          ...authErrorResponses
        }
      }
    },
    async request => {
      const cluster = request.query.cluster ?? ctx.clusters[0]?.name;
      if (cluster === undefined) {
        throw new HttpError('not_found', 'No cluster is configured');
      }
      return ctx.access.credential(cluster, userOf(request).name);
    }
  );
};
