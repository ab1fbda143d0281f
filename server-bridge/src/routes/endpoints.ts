import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  API_PREFIX,
  EndpointCreateSchema,
  EndpointIdParamsSchema,
  EndpointListSchema,
  EndpointMetricsSchema,
  EndpointRollSchema,
  EndpointSchema,
  ErrorBodySchema,
  ModelCatalogSchema,
  Routes
} from '../contract';
import { policy } from '../auth/policy';
import { userOf } from '../auth/plugin';
import {
  authErrorResponses,
  declareRoute,
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
  { endpoints, metrics }
) => {
  app.get(
    Routes.modelCatalog,
    declareRoute('endpoints', policy.user(), {
      summary:
        'The model catalog: models users can serve, with resource ranges and providers',
      description:
        "The admin's models, then the caller's own (own: true, with the file's tier URI); userModels says what users may register (null: nothing).",
      response: { 200: ModelCatalogSchema, ...authErrorResponses }
    }),
    async request => endpoints.catalog(userOf(request))
  );

  app.post(
    Routes.endpoints,
    declareRoute('endpoints', policy.user(), {
      summary:
        'Create an endpoint: a catalog model, or one of your models, served by a provider',
      description:
        "Answers at once (state pending); the first replica starts in the background. Resources default to the model's and must stay within its limits. Visibility group/course needs a group of the user (course: a course they teach).",
      body: EndpointCreateSchema,
      response: { 201: EndpointSchema, ...endpointErrors }
    }),
    async (request, reply) => {
      const ep = endpoints.create(userOf(request), request.body);
      return reply.status(201).send(ep);
    }
  );

  app.get(
    Routes.endpoints,
    declareRoute('endpoints', policy.user(), {
      summary:
        "My endpoints and those shared with my groups (admins: all=true for everyone's)",
      querystring: ListQuerySchema,
      response: { 200: EndpointListSchema, ...authErrorResponses }
    }),
    async request => ({
      endpoints: endpoints.list(userOf(request), request.query.all === 'true')
    })
  );

  app.get(
    ONE,
    declareRoute('endpoints', policy.owned('endpoint', 'read'), {
      summary: 'One endpoint: state, reason, replicas, URL',
      description: "Others' private endpoints answer 404 (admins see all).",
      params: EndpointIdParamsSchema,
      response: {
        200: EndpointSchema,
        404: ErrorBodySchema,
        ...authErrorResponses
      }
    }),
    async request => endpoints.get(userOf(request), request.params.id)
  );

  for (const action of ['start', 'stop'] as const) {
    app.post(
      `${ONE}/${action}`,
      declareRoute('endpoints', policy.owned('endpoint', 'act'), {
        summary:
          action === 'start'
            ? 'Serve again (after stop, failure or scale to zero)'
            : 'Stop every replica; requests are refused until started again',
        params: EndpointIdParamsSchema,
        response: { 200: EndpointSchema, ...endpointErrors }
      }),
      async request => endpoints[action](userOf(request), request.params.id)
    );
  }

  app.post(
    `${ONE}/roll`,
    declareRoute('endpoints', policy.owned('endpoint', 'act'), {
      summary: 'Serve another model at the same URL, with the same keys',
      description:
        'model: a catalog model, one of your models, or the tier URI of a model file (checked as at registration). A replica starts with the new model; once it is ready the old replicas drain (roll shows the previous model until then). If the new model never becomes ready, the old one serves on and reason says why. 409 while a roll is in flight; the openstack provider cannot serve model files.',
      params: EndpointIdParamsSchema,
      body: EndpointRollSchema,
      response: { 200: EndpointSchema, ...endpointErrors }
    }),
    async request =>
      endpoints.rollModel(
        userOf(request),
        request.params.id,
        request.body.model
      )
  );

  if (metrics !== undefined) {
    app.get(
      `${ONE}/metrics`,
      declareRoute('endpoints', policy.owned('endpoint', 'read'), {
        summary:
          'Recent traffic per minute: requests, errors, p50/p95 latency, tokens',
        description: 'Only the owner (and admins).',
        params: EndpointIdParamsSchema,
        response: { 200: EndpointMetricsSchema, ...endpointErrors }
      }),
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
    declareRoute('endpoints', policy.owned('endpoint', 'act'), {
      summary: 'Stop the replicas and delete the endpoint (and its keys)',
      params: EndpointIdParamsSchema,
      response: { 204: z.null(), ...endpointErrors }
    }),
    async (request, reply) => {
      await endpoints.delete(userOf(request), request.params.id);
      return reply.status(204).send(null);
    }
  );
};
