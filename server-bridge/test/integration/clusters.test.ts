/**
 * The stack's two SLURM clusters through one bridge: demo (login node :2222) and demo2
 * (:2223, its own slurmctld and node2). Both are listed and healthy, each user has a key of
 * their own per cluster, and a job on each runs on its own cluster, whose SLURM CLI the
 * job reaches. A demo2 controller outage: the fault suite (test/faults/clusters.test.ts).
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { HealthSchema, SshCredentialSchema } from '../../src/contract';
import {
  clustersNow,
  finished,
  probeJob,
  stdoutOf,
  submitted
} from './cluster-jobs';
import { bridge, createUserToken } from './stack';

jest.setTimeout(240_000);

const RUN = randomBytes(3).toString('hex');
let alice: string;

beforeAll(async () => {
  alice = await createUserToken('alice');
});

describe('two clusters', () => {
  it('lists both with their own partitions', async () => {
    const clusters = await clustersNow(alice);
    expect(clusters.get('demo')?.status).toBe('ok');
    const demo2 = clusters.get('demo2');
    expect(demo2).toMatchObject({
      title: 'Second demo cluster',
      status: 'ok'
    });
    expect(
      demo2?.partitions.map(p => ({
        name: p.name,
        default: p.default,
        nodes: p.nodes.total,
        cpus: p.cpus.total
      }))
    ).toEqual([{ name: 'batch2', default: true, nodes: 1, cpus: 2 }]);
    expect(clusters.get('demo')?.partitions.map(p => p.name)).not.toContain(
      'batch2'
    );
  });

  it('checks the health of each (ssh, slurmctld, a test submit, sftp)', async () => {
    const res = await bridge('/api/v1/health', alice);
    expect(res.status).toBe(200);
    const clusters = HealthSchema.parse(res.body).components.filter(
      c => c.kind === 'cluster'
    );
    expect(
      clusters.map(c => ({ name: c.name, status: c.status, checks: c.checks }))
    ).toEqual(
      ['cluster:demo', 'cluster:demo2'].map(name => ({
        name,
        status: 'ok',
        checks: { ssh: 'ok', slurmctld: 'ok', submit: 'ok', sftp: 'ok' }
      }))
    );
  });

  it('gives alice a key per cluster, both installed by stack/up', async () => {
    const keys = await Promise.all(
      ['demo', 'demo2'].map(async cluster => {
        const res = await bridge(
          `/api/v1/credentials/ssh?cluster=${cluster}`,
          alice
        );
        expect(res.status).toBe(200);
        return SshCredentialSchema.parse(res.body);
      })
    );
    expect(keys.map(k => k.clusterUser)).toEqual(['alice', 'alice']);
    expect(keys[0]?.publicKey).not.toBe(keys[1]?.publicKey);
    const installed = readFileSync('/home/alice/.ssh/authorized_keys', 'utf8');
    for (const key of keys) {
      expect(installed).toContain(key.publicKey);
    }
  });

  it('runs a job on each cluster, on its own node, with job ids kept apart', async () => {
    const [onDemo, onDemo2] = await Promise.all([
      submitted(alice, probeJob('demo', `a-${RUN}`)),
      submitted(alice, probeJob('demo2', `b-${RUN}`))
    ]);
    expect({ cluster: onDemo.cluster, demo2: onDemo2.cluster }).toEqual({
      cluster: 'demo',
      demo2: 'demo2'
    });
    // demo2 numbers its jobs from FirstJobId=2000000.
    expect(Number(onDemo.slurmId)).toBeLessThan(2_000_000);
    expect(Number(onDemo2.slurmId)).toBeGreaterThanOrEqual(2_000_000);

    const [doneDemo, doneDemo2] = await Promise.all([
      finished(alice, onDemo.id),
      finished(alice, onDemo2.id)
    ]);
    expect([doneDemo.state, doneDemo2.state]).toEqual([
      'COMPLETED',
      'COMPLETED'
    ]);
    expect(doneDemo.elements[0]?.node).toBe('node1');
    expect(doneDemo2.elements[0]?.node).toBe('node2');

    expect(await stdoutOf(alice, onDemo.id)).toContain(
      `probe a-${RUN} cluster=demo host=`
    );
    // squeue inside the job saw the job itself, in batch2: the job's SLURM CLI talks to demo2.
    expect(await stdoutOf(alice, onDemo2.id)).toContain(
      `probe b-${RUN} cluster=demo2 host=node2 queue=${onDemo2.slurmId}:batch2`
    );
  });
});
