/**
 * Triggers: `GET/POST /triggers`, `GET/PATCH/DELETE /triggers/{id}`,
 * `GET /triggers/{id}/runs`, `POST /triggers/{id}/dry-run`. Owner only: another user's
 * trigger answers 404.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  API_PREFIX,
  ErrorBodySchema,
  Routes,
  TriggerCreateSchema,
  TriggerDryRunSchema,
  TriggerIdParamsSchema,
  TriggerListSchema,
  TriggerPatchSchema,
  TriggerRunListQuerySchema,
  TriggerRunListSchema,
  TriggerSchema
} from '../contract';
import { policy } from '../auth/policy';
import { userOf } from '../auth/plugin';
import type { TriggerService } from '../triggers/service';
import {
  authErrorResponses,
  declareRoute,
  type IRouteContext
} from './context';

export interface ITriggersContext extends IRouteContext {
  triggers: TriggerService;
}

const ownedErrors = { ...authErrorResponses, 404: ErrorBodySchema } as const;
const TRIGGER = `${API_PREFIX}/triggers/:id`;

export const triggersRoutes: FastifyPluginAsyncZod<ITriggersContext> = async (
  app,
  ctx
) => {
  const { triggers } = ctx;

  app.get(
    Routes.triggers,
    declareRoute('triggers', policy.user(), {
      summary: 'My triggers, newest first, each with its last runs',
      response: { 200: TriggerListSchema, ...authErrorResponses }
    }),
    async request => ({ triggers: triggers.list(userOf(request)) })
  );

  app.post(
    Routes.triggers,
    {
      bodyLimit: 64 * 1024 * 1024,
      ...declareRoute('triggers', policy.user(), {
        summary: 'Make a trigger: when its source fires, its action runs as me',
        description:
          'Checked up front: the watched folder exists and I may read it (404/403), a submit action passes the job checks (400) and the data-class rules (403 policy_refused), a copy goes to a folder I may write, a webhook to an allowed address. What is already in a watched folder is the baseline and does not fire. 409 when I have 50 triggers.',
        body: TriggerCreateSchema,
        response: {
          201: TriggerSchema,
          ...ownedErrors,
          409: ErrorBodySchema,
          412: ErrorBodySchema
        }
      })
    },
    async (request, reply) => {
      const created = await triggers.create(userOf(request), request.body);
      return reply.status(201).send(created);
    }
  );

  app.get(
    TRIGGER,
    declareRoute('triggers', policy.owned('trigger'), {
      summary: 'One trigger with its last runs',
      params: TriggerIdParamsSchema,
      response: { 200: TriggerSchema, ...ownedErrors }
    }),
    async request => triggers.get(userOf(request), request.params.id)
  );

  app.patch(
    TRIGGER,
    declareRoute('triggers', policy.owned('trigger'), {
      summary: 'Rename, pause or resume a trigger, or change its limits',
      description:
        'A paused trigger still records its events; they wait (reason "paused") and start when it is resumed.',
      params: TriggerIdParamsSchema,
      body: TriggerPatchSchema,
      response: { 200: TriggerSchema, ...ownedErrors }
    }),
    async request =>
      triggers.patch(userOf(request), request.params.id, request.body)
  );

  app.delete(
    TRIGGER,
    declareRoute('triggers', policy.owned('trigger'), {
      summary: 'Delete a trigger and its runs (jobs it submitted keep running)',
      params: TriggerIdParamsSchema,
      response: { 204: z.null(), ...ownedErrors }
    }),
    async (request, reply) => {
      triggers.delete(userOf(request), request.params.id);
      return reply.status(204).send(null);
    }
  );

  app.get(
    `${TRIGGER}/runs`,
    declareRoute('triggers', policy.owned('trigger'), {
      summary: "A trigger's runs, newest first",
      params: TriggerIdParamsSchema,
      querystring: TriggerRunListQuerySchema,
      response: { 200: TriggerRunListSchema, ...ownedErrors }
    }),
    async request => ({
      runs: triggers.runs(userOf(request), request.params.id, request.query)
    })
  );

  app.post(
    `${TRIGGER}/dry-run`,
    declareRoute('triggers', policy.owned('trigger'), {
      summary:
        'What would fire now, and whether it would start; records nothing',
      params: TriggerIdParamsSchema,
      response: {
        200: TriggerDryRunSchema,
        ...ownedErrors,
        412: ErrorBodySchema
      }
    }),
    async request => triggers.dryRun(userOf(request), request.params.id)
  );
};
