import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  ClusterListQuerySchema,
  ClusterListSchema,
  Routes,
  type Cluster
} from '../contract';
import { withTimeout } from '../with-timeout';
import { clusterDownReason } from './cluster-down';
import {
  authErrorResponses,
  SECURITY,
  type IClusterBackend,
  type IRouteContext
} from './context';
import { policy } from '../auth/policy';

/** How long one cluster's answer is reused, so many open panels cost one sinfo. */
const CACHE_MS = 5_000;

export const clustersRoutes: FastifyPluginAsyncZod<IRouteContext> = async (
  app,
  ctx
) => {
  const cache = new Map<string, { at: number; value: Promise<Cluster> }>();

  const query = async (c: IClusterBackend): Promise<Cluster> => {
    try {
      const partitions = await withTimeout(ctx.backendTimeoutMs, () =>
        c.slurm.partitions()
      );
      return {
        name: c.name,
        title: c.title,
        status: 'ok',
        partitions,
        updatedAt: new Date().toISOString()
      };
    } catch (e) {
      app.log.warn(
        { cluster: c.name, err: (e as Error).message },
        'cluster query failed'
      );
      return {
        name: c.name,
        title: c.title,
        status: 'down',
        error: clusterDownReason(c.name, e),
        partitions: [],
        updatedAt: new Date().toISOString()
      };
    }
  };

  const cached = (c: IClusterBackend, refresh: boolean): Promise<Cluster> => {
    const now = Date.now();
    const hit = cache.get(c.name);
    if (!refresh && hit !== undefined && now - hit.at < CACHE_MS) {
      return hit.value;
    }
    const value = query(c);
    cache.set(c.name, { at: now, value });
    return value;
  };

  app.get(
    Routes.clusters,
    {
      config: policy.user(),
      schema: {
        summary: 'Clusters with their partitions (nodes, CPUs, GPUs, state)',
        description:
          'Always 200: a cluster that cannot be queried is listed with status "down" and an error.',
        tags: ['clusters'],
        security: SECURITY,
        querystring: ClusterListQuerySchema,
        response: { 200: ClusterListSchema, ...authErrorResponses }
      }
    },
    async request => ({
      clusters: await Promise.all(
        ctx.clusters.map(c => cached(c, request.query.refresh === true))
      )
    })
  );
};
