import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Routes } from '../contract';
import { publicErrorResponses } from './context';
import { policy } from '../auth/policy';

const OpenApiDocumentSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown())
});

/** Public: the OpenAPI document generated from the contract's zod schemas. */
export const openapiRoutes: FastifyPluginAsyncZod = async app => {
  app.get(
    Routes.openapi,
    {
      config: policy.public('the API description; no user data'),
      schema: {
        summary: 'This OpenAPI document',
        tags: ['meta'],
        response: { 200: OpenApiDocumentSchema, ...publicErrorResponses }
      }
    },
    async () => OpenApiDocumentSchema.parse(app.swagger())
  );
};
