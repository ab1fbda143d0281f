import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  API_PREFIX,
  EndpointCreateSchema,
  EndpointIdParamsSchema,
  EndpointListSchema,
  EndpointMetricsSchema,
  EndpointSchema,
  ErrorBodySchema,
  ModelCatalogSchema,
  Routes
} from '../contract';
import { policy } from '../auth/policy';
import { userOf } from '../auth/plugin';
import {
  authErrorResponses,
  SECURITY,
  type IEndpointsContext
} from './context';

const endpointErrors = {
  ...authErrorResponses,
  404: ErrorBodySchema,
  409: ErrorBodySchema,
  412: ErrorBodySchema
} as const;

const ListQuerySchema = z.object({
  /** Admins: everyone's endpoints. */
  all: z.enum(['true', 'false']).optional()
});

const ONE = `${API_PREFIX}/endpoints/:id`;

export const endpointsRoutes: FastifyPluginAsyncZod<IEndpointsContext> = async (
  app,
  ctx
) => {
  const { endpoints } = ctx;

  app.get(
    Routes.modelCatalog,
    {
      config: policy.user(),
      schema: {
        summary:
          'The model catalog: models users can serve, with resource ranges and providers',
        tags: ['endpoints'],
        security: SECURITY,
        response: { 200: ModelCatalogSchema, ...authErrorResponses }
      }
    },
    async () => endpoints.catalog()
  );

  app.post(
    Routes.endpoints,
    {
      config: policy.user(),
      schema: {
        summary: 'Create an endpoint: a catalog model served by a provider',
        description:
          "Answers at once (state pending); the first replica starts in the background. Resources default to the model's and must stay within its limits. Visibility group/course needs a group of the user (course: a course they teach).",
        tags: ['endpoints'],
        security: SECURITY,
        body: EndpointCreateSchema,
        response: { 201: EndpointSchema, ...endpointErrors }
      }
    },
    async (request, reply) => {
      const ep = endpoints.create(userOf(request), request.body);
      return reply.status(201).send(ep);
    }
  );

  app.get(
    Routes.endpoints,
    {
      config: policy.user(),
      schema: {
        summary:
          "My endpoints and those shared with my groups (admins: all=true for everyone's)",
        tags: ['endpoints'],
        security: SECURITY,
        querystring: ListQuerySchema,
        response: { 200: EndpointListSchema, ...authErrorResponses }
      }
    },
    async request => ({
      endpoints: endpoints.list(userOf(request), request.query.all === 'true')
    })
  );

  app.get(
    ONE,
    {
      config: policy.owned('endpoint', 'read'),
      schema: {
        summary: 'One endpoint: state, reason, replicas, URL',
        description: "Others' private endpoints answer 404 (admins see all).",
        tags: ['endpoints'],
        security: SECURITY,
        params: EndpointIdParamsSchema,
        response: {
          200: EndpointSchema,
          404: ErrorBodySchema,
          ...authErrorResponses
        }
      }
    },
    async request => endpoints.get(userOf(request), request.params.id)
  );

  for (const action of ['start', 'stop'] as const) {
    app.post(
      `${ONE}/${action}`,
      {
        config: policy.owned('endpoint', 'act'),
        schema: {
          summary:
            action === 'start'
              ? 'Serve again (after stop, failure or scale to zero)'
              : 'Stop every replica; requests are refused until started again',
          tags: ['endpoints'],
          security: SECURITY,
          params: EndpointIdParamsSchema,
          response: { 200: EndpointSchema, ...endpointErrors }
        }
      },
      async request => endpoints[action](userOf(request), request.params.id)
    );
  }

  const metrics = ctx.metrics;
  if (metrics !== undefined) {
    app.get(
      `${ONE}/metrics`,
      {
        config: policy.owned('endpoint', 'read'),
        schema: {
          summary:
            'Recent traffic per minute: requests, errors, p50/p95 latency, tokens',
          description: 'Only the owner (and admins).',
          tags: ['endpoints'],
          security: SECURITY,
          params: EndpointIdParamsSchema,
          response: { 200: EndpointMetricsSchema, ...endpointErrors }
        }
      },
      async request => {
        const ep = endpoints.owned(userOf(request), request.params.id);
        return (
          metrics(ep.id) ?? {
            points: [],
            totals: {
              requests: 0,
              errors: 0,
              promptTokens: 0,
              completionTokens: 0
            }
          }
        );
      }
    );
  }

  app.delete(
    ONE,
    {
      config: policy.owned('endpoint', 'act'),
      schema: {
        summary: 'Stop the replicas and delete the endpoint (and its keys)',
        tags: ['endpoints'],
        security: SECURITY,
        params: EndpointIdParamsSchema,
        response: { 204: z.null(), ...endpointErrors }
      }
    },
    async (request, reply) => {
      await endpoints.delete(userOf(request), request.params.id);
      return reply.status(204).send(null);
    }
  );
};
