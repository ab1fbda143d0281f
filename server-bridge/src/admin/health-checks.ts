/**
 * The backends' health: the hub, each cluster (ssh, slurmctld, a test submit, SFTP) and
 * each S3 endpoint (list, write, read, delete), each checked within a deadline.
 */
import type { ComponentHealth, ComponentStatus } from '../contract';
import type { IHubPort } from '../ports/hub';
import type { IS3Port } from '../ports/s3';
import type { ISlurmPort } from '../ports/slurm';
import { withTimeout } from '../with-timeout';

export interface IClusterBackend {
  name: string;
  title: string;
  slurm: ISlurmPort;
}

export interface IS3Backend {
  name: string;
  port: IS3Port;
}

/** What the checks reach, and how long each may take. */
export interface IBackends {
  hub: IHubPort;
  clusters: readonly IClusterBackend[];
  s3: readonly IS3Backend[];
  /** The deadline of each check. */
  backendTimeoutMs: number;
}

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
  ctx: IBackends
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
