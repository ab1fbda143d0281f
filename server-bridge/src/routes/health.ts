import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  HealthSchema,
  Routes,
  type ComponentHealth,
  type ComponentStatus
} from '../contract';
import {
  authErrorResponses,
  SECURITY,
  withTimeout,
  type IRouteContext
} from './context';
import { policy } from '../auth/policy';

const RANK: Record<ComponentStatus, number> = { ok: 0, degraded: 1, down: 2 };

export function worstOf(statuses: readonly ComponentStatus[]): ComponentStatus {
  return statuses.reduce<ComponentStatus>(
    (w, s) => (RANK[s] > RANK[w] ? s : w),
    'ok'
  );
}

async function timed(
  base: Pick<ComponentHealth, 'name' | 'kind'>,
  timeoutMs: number,
  check: (
    signal: AbortSignal
  ) => Promise<Omit<ComponentHealth, 'name' | 'kind' | 'latencyMs'>>
): Promise<ComponentHealth> {
  const started = performance.now();
  try {
    const result = await withTimeout(timeoutMs, check);
    return {
      ...base,
      ...result,
      latencyMs: Math.round(performance.now() - started)
    };
  } catch (e) {
    return {
      ...base,
      status: 'down',
      detail: (e as Error).message,
      latencyMs: Math.round(performance.now() - started)
    };
  }
}

/** Checks the hub, each cluster and each S3 endpoint (for `GET /health` and the history). */
export async function checkBackends(
  ctx: Pick<IRouteContext, 'hub' | 'clusters' | 's3' | 'backendTimeoutMs'>
): Promise<ComponentHealth[]> {
  const t = ctx.backendTimeoutMs;
  return Promise.all([
    timed({ name: 'hub', kind: 'hub' }, t, async signal => ({
      status: 'ok',
      detail: await ctx.hub.check(signal)
    })),
    ...ctx.clusters.map(c =>
      timed({ name: `cluster:${c.name}`, kind: 'cluster' }, t, async () => {
        const ping = await c.slurm.ping();
        // No SSH or no controller: down. Answers but cannot take a job or a file: degraded.
        const checks: Record<string, ComponentStatus> = {
          ssh: ping.ssh.ok ? 'ok' : 'down',
          slurmctld: ping.slurmctld.ok ? 'ok' : 'down',
          ...(ping.submit && { submit: ping.submit.ok ? 'ok' : 'degraded' }),
          ...(ping.sftp && { sftp: ping.sftp.ok ? 'ok' : 'degraded' })
        };
        const detail = [ping.ssh, ping.slurmctld, ping.submit, ping.sftp]
          .map(c => c?.detail)
          .filter(d => d !== undefined && !d.startsWith('not checked'))
          .join('; ');
        return {
          status: worstOf(Object.values(checks)),
          checks,
          ...(detail === '' ? {} : { detail })
        };
      })
    ),
    ...ctx.s3.map(s =>
      timed({ name: `s3:${s.name}`, kind: 's3' }, t, async signal => {
        const probe = await s.port.check(signal);
        const failed = Object.values(probe.checks).includes('down');
        return {
          // It answers but cannot store or serve objects: degraded, with the cause.
          status: failed ? 'degraded' : 'ok',
          checks: probe.checks,
          ...(probe.detail === undefined ? {} : { detail: probe.detail })
        };
      })
    )
  ]);
}

export const healthRoutes: FastifyPluginAsyncZod<IRouteContext> = async (
  app,
  ctx
) => {
  app.get(
    Routes.health,
    {
      config: policy.user(),
      schema: {
        summary:
          'Status of the hub, each cluster (ssh + slurmctld) and each S3 endpoint',
        tags: ['meta'],
        security: SECURITY,
        response: { 200: HealthSchema, ...authErrorResponses }
      }
    },
    async () => {
      const components = await checkBackends(ctx);
      return {
        status: worstOf(components.map(c => c.status)),
        version: ctx.version,
        components
      };
    }
  );
};
