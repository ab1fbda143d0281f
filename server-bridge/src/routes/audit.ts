import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { auditCsv, auditJsonl } from '../admin/audit-search';
import { searchAudit } from '../admin/repository/audit';
import { policy } from '../auth/policy';
import { AuditListSchema, AuditSearchQuerySchema, Routes } from '../contract';
import type { Store } from '../store';
import { authErrorResponses, SECURITY, type IRouteContext } from './context';

/** Admins only: the append-only audit log, searched; as JSON, JSON Lines or CSV. */
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
          'Filters (all must match): user (exact), action (prefix, e.g. `storage.`), tier and path (storage records of the tier whose path holds the substring), q (substring of the target), outcome (ok, refused, failed), since/until (ISO times, inclusive). `format=jsonl` answers application/x-ndjson (one record a line), `format=csv` text/csv with a header row (RFC 4180 quoting).',
        tags: ['audit'],
        security: SECURITY,
        querystring: AuditSearchQuerySchema,
        produces: ['application/json', 'application/x-ndjson', 'text/csv'],
        response: {
          200: AuditListSchema.or(
            z.string().describe('format=jsonl or csv: the records as text')
          ),
          ...authErrorResponses
        }
      }
    },
    async (request, reply) => {
      const { format, ...filter } = request.query;
      const records = searchAudit(ctx.store, filter);
      if (format === 'jsonl') {
        return reply.type('application/x-ndjson').send(auditJsonl(records));
      }
      if (format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="audit.csv"')
          .send(auditCsv(records));
      }
      return { records };
    }
  );
};
