import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Routes, WhoamiSchema } from '../contract';
import { policy } from '../auth/policy';
import { userOf } from '../auth/plugin';
import { authErrorResponses, SECURITY, type IRouteContext } from './context';

export const whoamiRoutes: FastifyPluginAsyncZod<IRouteContext> = async app => {
  app.get(
    Routes.whoami,
    {
      config: policy.user(),
      schema: {
        summary: 'The authenticated user, their hub groups and bridge roles',
        tags: ['auth'],
        security: SECURITY,
        response: { 200: WhoamiSchema, ...authErrorResponses }
      }
    },
    async request => {
      const user = userOf(request);
      return { name: user.name, groups: user.groups, roles: user.roles };
    }
  );
};
