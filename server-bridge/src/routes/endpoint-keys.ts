/**
 * API keys of an endpoint: create (the key is shown once, in the answer), list (never
 * the key), revoke. Only the endpoint's owner creates keys; admins may list and revoke
 * them too. To anyone else the endpoint does not exist (404).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  API_PREFIX,
  EndpointIdParamsSchema,
  EndpointKeyCreatedSchema,
  EndpointKeyCreateSchema,
  EndpointKeyListSchema,
  EndpointKeyParamsSchema,
  EndpointKeySchema,
  ErrorBodySchema,
  type EndpointKey
} from '../contract';
import { policy } from '../auth/policy';
import { userOf } from '../auth/plugin';
import type { IAuthUser } from '../auth/decide';
import type { EndpointKeys } from '../endpoints/keys';
import type { IKeyRecord } from '../endpoints/repository/keys';
import type { EndpointUsage, IKeyUsage } from '../endpoints/usage';
import { HttpError } from '../errors';
import type { IAuditEntry } from '../store';
import { authErrorResponses, SECURITY, type IRouteContext } from './context';

export interface IEndpointKeysContext extends IRouteContext {
  keys: EndpointKeys;
  usage: EndpointUsage;
  /** The owner of an endpoint; null when there is no such endpoint. */
  endpointOwner: (endpointId: string) => string | null;
  /** Records key creation and revocation (e.g. `store.audit`). */
  audit?: (entry: IAuditEntry) => void;
}

const KEYS = `${API_PREFIX}/endpoints/:id/keys`;

const keyErrors = { ...authErrorResponses, 404: ErrorBodySchema } as const;

export function keyView(
  record: IKeyRecord,
  usage: IKeyUsage | undefined
): EndpointKey {
  return {
    id: record.id,
    name: record.name,
    prefix: record.prefix,
    requestsPerMinute: record.requestsPerMinute,
    tokenBudget: record.tokenBudget,
    tokensUsed: usage?.tokensUsed ?? 0,
    requests: usage?.requests ?? 0,
    createdAt: record.createdAt,
    lastUsedAt: record.lastUsedAt,
    revokedAt: record.revokedAt,
    ...(record.jobId === null ? {} : { jobId: record.jobId })
  };
}

export const endpointKeysRoutes: FastifyPluginAsyncZod<
  IEndpointKeysContext
> = async (app, ctx) => {
  const { keys, usage } = ctx;

  /** 404 unless `user` owns the endpoint (or is an admin, when `adminMay`). */
  const check = (user: IAuthUser, endpointId: string, adminMay: boolean) => {
    const owner = ctx.endpointOwner(endpointId);
    if (owner === null || (owner !== user.name && !user.admin)) {
      throw new HttpError('not_found', `No endpoint ${endpointId}`);
    }
    if (owner !== user.name && !adminMay) {
      throw new HttpError(
        'forbidden',
        `Only ${owner}, the endpoint's owner, creates its keys`
      );
    }
  };

  app.post(
    KEYS,
    {
      config: policy.owned('endpoint'),
      schema: {
        summary:
          'Create an API key of an endpoint (the key is shown only here)',
        description:
          'The key (`hpcb_…`) goes in `Authorization: Bearer` of requests to the gateway (`…/v1`). It is stored hashed and cannot be shown again.',
        tags: ['endpoints'],
        security: SECURITY,
        params: EndpointIdParamsSchema,
        body: EndpointKeyCreateSchema,
        response: { 201: EndpointKeyCreatedSchema, ...keyErrors }
      }
    },
    async (request, reply) => {
      const user = userOf(request);
      const { id } = request.params;
      check(user, id, false);
      const { key, record } = keys.create(id, user.name, request.body);
      ctx.audit?.({
        user: user.name,
        action: 'endpoint.key.create',
        target: id,
        details: { keyId: record.id, name: record.name }
      });
      return reply.status(201).send({ ...keyView(record, undefined), key });
    }
  );

  app.get(
    KEYS,
    {
      config: policy.owned('endpoint', 'read'),
      schema: {
        summary: "An endpoint's API keys with their usage (never the keys)",
        tags: ['endpoints'],
        security: SECURITY,
        params: EndpointIdParamsSchema,
        response: { 200: EndpointKeyListSchema, ...keyErrors }
      }
    },
    async request => {
      const { id } = request.params;
      check(userOf(request), id, true);
      const used = usage.keyUsage(id);
      return {
        keys: keys.list(id).map(k => keyView(k, used.get(k.id)))
      };
    }
  );

  app.delete(
    `${KEYS}/:keyId`,
    {
      config: policy.owned('endpoint-key', 'act'),
      schema: {
        summary: 'Revoke an API key (at once; idempotent)',
        tags: ['endpoints'],
        security: SECURITY,
        params: EndpointKeyParamsSchema,
        response: { 200: EndpointKeySchema, ...keyErrors }
      }
    },
    async request => {
      const user = userOf(request);
      const { id, keyId } = request.params;
      check(user, id, true);
      const record = keys.revoke(id, keyId);
      ctx.audit?.({
        user: user.name,
        action: 'endpoint.key.revoke',
        target: id,
        details: { keyId }
      });
      return keyView(record, usage.keyUsage(id).get(keyId));
    }
  );
};
