/**
 * Health and live cluster data from the real SLURM (sinfo over the real sshd)
 * and the real Swift S3, through the hub's proxy.
 */
import {
  ClusterListSchema,
  ErrorBodySchema,
  HealthSchema,
  VersionSchema
} from '../../src/contract';
import { bridge, createUserToken } from './stack';

let token: string;
beforeAll(async () => {
  token = await createUserToken('alice');
});

describe('health', () => {
  it('reports the hub, the cluster (ssh, slurmctld, a test submit, sftp) and the S3 endpoint (objects written and read) as ok', async () => {
    const res = await bridge('/api/v1/health', token);
    expect(res.status).toBe(200);
    const health = HealthSchema.parse(res.body);
    const byKind = (kind: string) =>
      health.components.filter(c => c.kind === kind);

    expect(byKind('hub')).toHaveLength(1);
    expect(byKind('cluster').map(c => c.name)).toContain('cluster:demo');
    expect(byKind('s3').map(c => c.name)).toContain('s3:demo');
    const cluster = byKind('cluster')[0];
    // What users do: a job slurmctld would take (sbatch --test-only), an SFTP stat.
    expect(cluster.checks).toEqual({
      ssh: 'ok',
      slurmctld: 'ok',
      submit: 'ok',
      sftp: 'ok'
    });
    // And S3: list, then a small object written, read back and deleted.
    expect(byKind('s3')[0]?.checks).toEqual({
      list: 'ok',
      write: 'ok',
      read: 'ok',
      delete: 'ok'
    });
    for (const component of health.components) {
      expect({ name: component.name, status: component.status }).toEqual({
        name: component.name,
        status: 'ok'
      });
    }
    expect(health.status).toBe('ok');
  });

  it('needs a token', async () => {
    expect((await bridge('/api/v1/health')).status).toBe(401);
  });
});

describe('clusters', () => {
  it('lists the cpu and gpu partitions with 2 GPUs from sinfo', async () => {
    const res = await bridge('/api/v1/clusters', token);
    expect(res.status).toBe(200);
    const { clusters } = ClusterListSchema.parse(res.body);
    const demo = clusters.find(c => c.name === 'demo');
    expect(demo?.status).toBe('ok');
    const byName = new Map(demo?.partitions.map(p => [p.name, p]));

    expect(byName.get('cpu')?.default).toBe(true);
    expect(byName.get('gpu')?.default).toBe(false);
    expect(byName.get('gpu')?.gpus.total).toBe(2);
    expect(byName.get('cpu')?.cpus.total).toBeGreaterThan(0);
    expect(byName.get('cpu')?.nodes.total).toBe(1);
  });
});

describe('public routes and errors', () => {
  it('tells its version and contract without a token', async () => {
    const res = await bridge('/api/v1/version');
    expect(res.status).toBe(200);
    expect(VersionSchema.parse(res.body).name).toBe('hpc-bridge');
  });

  it('serves the OpenAPI document generated from the contract', async () => {
    const res = await bridge('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    const paths = Object.keys(doc.paths).join(' ');
    for (const path of [
      '/api/v1/whoami',
      '/api/v1/health',
      '/api/v1/clusters'
    ]) {
      expect(paths).toContain(path);
    }
  });

  it('answers an unknown route with 404 in the one error shape', async () => {
    const res = await bridge('/api/v1/no-such-route', token);
    expect(res.status).toBe(404);
    expect(ErrorBodySchema.parse(res.body).error.code).toBe('not_found');
  });
});
