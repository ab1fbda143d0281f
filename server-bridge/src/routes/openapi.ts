import type { SwaggerTransform } from '@fastify/swagger';
import type { FastifySchema } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Routes } from '../contract';
import { publicErrorResponses } from './context';
import { policy, type AdminReach, type RouteAccess } from '../auth/policy';

const OpenApiDocumentSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown())
});

/** The operation extension that carries a route's declared policy. */
export const ACCESS_EXTENSION = 'x-access';

const ADMIN_REACH: Record<AdminReach, string> = {
  none: 'Admins: as any other user.',
  read: 'Admins may read it (GET).',
  act: 'Admins may do this too.'
};

const COURSE_ROLE = {
  instructor: "the instructors of the path's course",
  student: "the students of the path's course",
  member: "the instructors and students of the path's course"
} as const;

/** One sentence for people reading the document: who may call the operation. */
export function accessSentence(access: RouteAccess): string {
  switch (access.who) {
    case 'public':
      return `Access: public, no hub token (${access.why}).`;
    case 'user':
      return 'Access: any hub user, on their own data.';
    case 'owner':
      return `Access: the owner of the ${access.resource}; others get 404. ${ADMIN_REACH[access.admins]}`;
    case 'admin':
      return 'Access: hub admins and members of the admin group only (403 for others).';
    case 'course':
      return `Access: ${COURSE_ROLE[access.role]}; others get 404. ${ADMIN_REACH[access.admins]}`;
  }
}

/**
 * Wraps the schema transform of the OpenAPI generator: each operation gets its route's
 * declared policy (`config.access`, auth/policy.ts) as `x-access` and as a sentence at the
 * end of its description, so the document cannot say something the hooks do not enforce.
 */
export function withAccess<S extends FastifySchema>(
  transform: SwaggerTransform<S>
): SwaggerTransform<S> {
  return input => {
    const result = transform(input);
    const access = input.route.config?.access;
    if (access === undefined) {
      return result;
    }
    const schema = result.schema as FastifySchema & {
      description?: string;
    };
    const sentence = accessSentence(access);
    return {
      ...result,
      schema: {
        ...schema,
        description:
          schema.description === undefined
            ? sentence
            : `${schema.description}\n\n${sentence}`,
        [ACCESS_EXTENSION]: access
      }
    };
  };
}

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
