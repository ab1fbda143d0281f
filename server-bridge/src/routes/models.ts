import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  API_PREFIX,
  ErrorBodySchema,
  Routes,
  UserModelCreateSchema,
  UserModelParamsSchema,
  UserModelSchema
} from '../contract';
import { policy } from '../auth/policy';
import { userOf } from '../auth/plugin';
import {
  authErrorResponses,
  declareRoute,
  type IModelsContext
} from './context';

/** Registering and removing the caller's own models (the list is the catalog route's). */
export const modelsRoutes: FastifyPluginAsyncZod<IModelsContext> = async (
  app,
  { models }
) => {
  app.post(
    Routes.modelCatalog,
    declareRoute('endpoints', policy.owned('tier'), {
      summary:
        'Register a model file you can read on a tier as one of your models',
      description:
        'The admin decides which recipes take user files and which tier classes they may come from (serving.userModels; absent: 403). The file must exist and be readable by you (404 otherwise), be within maxBytes, and start with "GGUF" for a llama-server recipe. Only you see and use it; create an endpoint with its name, or roll one to it.',
      body: UserModelCreateSchema,
      response: {
        201: UserModelSchema,
        ...authErrorResponses,
        404: ErrorBodySchema,
        409: ErrorBodySchema
      }
    }),
    async (request, reply) =>
      reply
        .status(201)
        .send(await models.register(userOf(request), request.body))
  );

  app.delete(
    `${API_PREFIX}/models/:name`,
    declareRoute('endpoints', policy.owned('model'), {
      summary: 'Remove one of your models',
      description:
        "Endpoints serving it keep serving the file. Another user's model answers 404.",
      params: UserModelParamsSchema,
      response: { 204: z.null(), ...authErrorResponses, 404: ErrorBodySchema }
    }),
    async (request, reply) => {
      models.delete(userOf(request), request.params.name);
      return reply.status(204).send(null);
    }
  );
};
