/** Admins only: the dashboard's overview, usage and backend health history. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AdminDashboard } from '../admin/dashboard';
import type { HealthHistory } from '../admin/health-history';
import { userOf } from '../auth/plugin';
import { policy } from '../auth/policy';
import {
  AdminHealthQuerySchema,
  AdminHealthSchema,
  AdminOverviewQuerySchema,
  AdminOverviewSchema,
  AdminUsageQuerySchema,
  AdminUsageSchema,
  Routes,
  type Replicas
} from '../contract';
import { authErrorResponses, SECURITY, type IRouteContext } from './context';

export interface IAdminContext extends IRouteContext {
  dashboard: AdminDashboard;
  health: HealthHistory;
  /** Which replica leads (absent: no replicas, e.g. in tests). */
  replicas?: () => Replicas;
}

export const adminRoutes: FastifyPluginAsyncZod<IAdminContext> = async (
  app,
  ctx
) => {
  app.get(
    Routes.adminOverview,
    {
      config: policy.admin(),
      schema: {
        summary: 'All jobs, endpoints and tier usage (admins)',
        description:
          'Job counts per state and the newest jobs (filters user, state, since), every endpoint, and the usage of every tier scope as last measured (null when not measured since the bridge started; this view never walks a tier).',
        tags: ['admin'],
        security: SECURITY,
        querystring: AdminOverviewQuerySchema,
        response: { 200: AdminOverviewSchema, ...authErrorResponses }
      }
    },
    async request => {
      const { user, state, since, limit } = request.query;
      return ctx.dashboard.overview(userOf(request), {
        limit,
        ...(user === undefined ? {} : { user }),
        ...(state === undefined ? {} : { state }),
        ...(since === undefined ? {} : { since })
      });
    }
  );

  app.get(
    Routes.adminUsage,
    {
      config: policy.admin(),
      schema: {
        summary:
          'Core-hours, GPU-hours, tokens and bytes per user or group (admins)',
        description:
          'The window defaults to the 30 days before now. Running elements count until now; see `note`. by=group needs the hub’s group list (503 when the hub does not give it).',
        tags: ['admin'],
        security: SECURITY,
        querystring: AdminUsageQuerySchema,
        response: { 200: AdminUsageSchema, ...authErrorResponses }
      }
    },
    async request => {
      const { by, since, until } = request.query;
      return ctx.dashboard.usage(by, since, until);
    }
  );

  app.get(
    Routes.adminHealth,
    {
      config: policy.admin(),
      schema: {
        summary: 'Backend health over time (admins)',
        description:
          'One sample per backend and minute (the checks of GET /health), kept 7 days; `replicas`: the replica that answered and the one that leads (runs the pollers, controllers and sweepers).',
        tags: ['admin'],
        security: SECURITY,
        querystring: AdminHealthQuerySchema,
        response: { 200: AdminHealthSchema, ...authErrorResponses }
      }
    },
    async request => ({
      ...ctx.health.series(request.query.hours),
      ...(ctx.replicas === undefined ? {} : { replicas: ctx.replicas() })
    })
  );
};
