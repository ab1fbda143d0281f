/** `GET /lineage?tier=&path=`: what made an object, back to its raw inputs. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  ErrorBodySchema,
  LineageQuerySchema,
  LineageSchema,
  Routes
} from '../contract';
import { policy } from '../auth/policy';
import { userOf } from '../auth/plugin';
import type { LineageService } from '../lineage/service';
import {
  authErrorResponses,
  declareRoute,
  type IRouteContext
} from './context';

export interface ILineageContext extends IRouteContext {
  lineage: LineageService;
}

export const lineageRoutes: FastifyPluginAsyncZod<ILineageContext> = async (
  app,
  ctx
) => {
  app.get(
    Routes.lineage,
    declareRoute('storage', policy.owned('tier'), {
      summary: 'What made an object: its job, and the jobs of its inputs',
      description:
        "The caller must be able to read the tier path (404/403 otherwise). `records` starts with the object's own record (none when no job wrote it), then those of its inputs, breadth first, up to 10 jobs back; inputs the caller cannot read are listed in `withheld` and not followed.",
      querystring: LineageQuerySchema,
      response: {
        200: LineageSchema,
        ...authErrorResponses,
        404: ErrorBodySchema
      }
    }),
    async request =>
      ctx.lineage.chain(userOf(request), request.query.tier, request.query.path)
  );
};
