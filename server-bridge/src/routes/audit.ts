import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AuditListSchema, AuditQuerySchema, Routes } from '../contract';
import { queryAudit } from '../storage/audit';
import type { Store } from '../store';
import { authErrorResponses, SECURITY, type IRouteContext } from './context';
import { policy } from '../auth/policy';

/** Admins only: the append-only audit log, as JSON or JSON Lines (one record a line). */
export const auditRoutes: FastifyPluginAsyncZod<
  IRouteContext & { store: Store }
> = async (app, ctx) => {
  app.get(
    Routes.audit,
    {
      config: policy.admin(),
      schema: {
        summary: 'The audit log, newest first (admins)',
        description:
          'Filters: user (exact), action (prefix, e.g. `storage.`), q (substring of the target). `format=jsonl` answers application/x-ndjson, one record per line.',
        tags: ['audit'],
        security: SECURITY,
        querystring: AuditQuerySchema,
        produces: ['application/json', 'application/x-ndjson'],
        response: {
          200: AuditListSchema.or(
            z.string().describe('format=jsonl: one JSON record per line')
          ),
          ...authErrorResponses
        }
      }
    },
    async (request, reply) => {
      const { format, limit, ...filter } = request.query;
      const records = queryAudit(ctx.store, {
        limit,
        ...(filter.user === undefined ? {} : { user: filter.user }),
        ...(filter.action === undefined ? {} : { action: filter.action }),
        ...(filter.q === undefined ? {} : { q: filter.q })
      });
      if (format === 'jsonl') {
        return reply
          .type('application/x-ndjson')
          .send(records.map(r => `${JSON.stringify(r)}\n`).join(''));
      }
      return { records };
    }
  );
};
