/** The slurm serving provider over the in-memory cluster fakes of the job tests. */
import type { ClusterConfig } from '../../src/config';
import { hubUserOf, SlurmProvider } from '../../src/endpoints/slurm-provider';
import type { IReplicaSpec } from '../../src/endpoints/ports';
import { FakeCluster, fakeAccess, queueRecord } from './job-fakes';
import { sshBatchScripts } from '../../src/adapters/ssh/scripts';

const KEY = 'k'.repeat(32);

const SPEC: IReplicaSpec = {
  endpointId: 'e0a1',
  replicaId: 'b2c3',
  owner: 'alice',
  modelPath: '/models/tiny.gguf',
  argv: [
    '/opt/llama/bin/llama-server',
    '-m',
    '/models/tiny.gguf',
    '--host',
    '{host}',
    '--port',
    '{port}'
  ],
  upstreamKey: KEY,
  keyEnv: 'LLAMA_API_KEY',
  resources: { cpus: 1, memoryMB: 1000, gpus: 1, timeMinutes: 30 }
};

function fixture(queueCacheMs = 0) {
  const fake = new FakeCluster();
  const demo = {
    name: 'demo',
    title: 'demo',
    userMapping: { template: 'u-{user}' },
    jobs: { root: '.hpc-bridge/jobs', python: '/usr/bin/python3' }
  } as unknown as ClusterConfig;
  let now = 1_800_000_000_000;
  const provider = new SlurmProvider({
    cluster: demo,
    partition: 'gpu',
    root: '.hpc-bridge/endpoints',
    access: fakeAccess(fake),
    scripts: sshBatchScripts,
    queue: fake.queuePort(),
    queueCacheMs,
    now: () => now
  });
  return { fake, provider, advance: (ms: number) => (now += ms) };
}

describe('SlurmProvider', () => {
  it('writes the replica script over SFTP and submits it as the owner', async () => {
    const { fake, provider } = fixture();
    const h = await provider.start(SPEC);
    expect(fake.submitted).toEqual([
      {
        script: '/home/alice/.hpc-bridge/endpoints/b2c3/replica.sbatch',
        workdir: '/home/alice/.hpc-bridge/endpoints/b2c3',
        user: 'alice'
      }
    ]);
    const script =
      fake.files
        .get('/home/alice/.hpc-bridge/endpoints/b2c3/replica.sbatch')
        ?.toString() ?? '';
    expect(script).toContain('#SBATCH --job-name=hpcb-ep-e0a1-b2c3\n');
    expect(script).toContain('#SBATCH --partition=gpu\n#SBATCH --time=30\n');
    expect(script).toContain('#SBATCH --gres=gpu:1\n');
    expect(script).toContain(
      `exec /opt/llama/bin/llama-server -m /models/tiny.gguf --host "\${HPCB_HOST}" --port "\${HPCB_PORT}"\n`
    );
    expect(h).toMatchObject({
      provider: 'slurm',
      replicaId: 'b2c3',
      ref: { cluster: 'demo', slurmId: '100', owner: 'alice', timeMinutes: 30 }
    });
  });

  it('hands the key over in a 0600 file, never in the script or the sbatch command', async () => {
    const { fake, provider } = fixture();
    await provider.start(SPEC);
    const dir = '/home/alice/.hpc-bridge/endpoints/b2c3';
    const script = fake.files.get(`${dir}/replica.sbatch`)?.toString() ?? '';
    expect(script).not.toContain(KEY);
    expect(JSON.stringify(fake.submitted)).not.toContain(KEY);
    expect(fake.files.get(`${dir}/upstream.key`)?.toString()).toBe(`${KEY}\n`);
    expect(fake.modes.get(`${dir}/upstream.key`)).toBe(0o600);
    expect(script).toContain(
      `LLAMA_API_KEY=$(< ${dir}/upstream.key)\nexport LLAMA_API_KEY\n`
    );
    expect(script.indexOf('export LLAMA_API_KEY')).toBeLessThan(
      script.indexOf('exec ')
    );

    const other = 'o'.repeat(32);
    await provider.start({ ...SPEC, replicaId: 'd4e5', upstreamKey: other });
    expect(
      fake.files
        .get('/home/alice/.hpc-bridge/endpoints/d4e5/upstream.key')
        ?.toString()
    ).toBe(`${other}\n`);
  });

  it('refuses a key or key variable outside their safe form', async () => {
    const { provider } = fixture();
    await expect(
      provider.start({ ...SPEC, upstreamKey: 'short' })
    ).rejects.toThrow(/upstream key/);
    await expect(
      provider.start({ ...SPEC, keyEnv: 'X; rm -rf /' })
    ).rejects.toThrow(/variable name/);
  });

  it('sees a replica start by its address before the queue snapshot does', async () => {
    const { fake, provider } = fixture(60_000);
    const dir = '/home/alice/.hpc-bridge/endpoints';
    fake.queue = [queueRecord('100', 'PENDING', { reason: 'Resources' })];
    const h = await provider.start(SPEC);
    expect(await provider.status(h)).toMatchObject({ state: 'pending' });
    fake.queue = [queueRecord('100', 'RUNNING', { startTime: 1000 })];
    fake.files.set(
      `${dir}/b2c3/replica.json`,
      Buffer.from('{"host": "10.1.2.3", "port": 40001}')
    );
    // The snapshot still says pending; the address says it runs, and its time limit
    // (30 min) ends no earlier than 30 min after the submit: the handover point.
    expect(await provider.status(h)).toEqual({
      state: 'running',
      host: '10.1.2.3',
      port: 40001,
      endsAt: new Date(1_800_000_000_000 + 30 * 60_000)
    });
  });

  it('maps queue, replica.json and accounting to replica states', async () => {
    const { fake, provider, advance } = fixture();
    const h = await provider.start(SPEC);
    expect(await provider.status(h)).toEqual({
      state: 'pending',
      detail: 'job 100 submitted'
    });

    fake.queue = [queueRecord('100', 'PENDING', { reason: 'Resources' })];
    expect(await provider.status(h)).toEqual({
      state: 'pending',
      detail: 'job 100 pending (Resources)'
    });

    fake.queue = [
      queueRecord('100', 'RUNNING', { startTime: 1000, endTime: 2800 })
    ];
    expect(await provider.status(h)).toEqual({
      state: 'pending',
      detail: 'job 100 running on node1, waiting for its address'
    });
    fake.files.set(
      '/home/alice/.hpc-bridge/endpoints/b2c3/replica.json',
      Buffer.from('{"host": "10.1.2.3", "port": 40001}\n')
    );
    expect(await provider.status(h)).toEqual({
      state: 'running',
      host: '10.1.2.3',
      port: 40001,
      endsAt: new Date(2_800_000)
    });

    fake.queue = [];
    fake.accounting = [
      {
        key: '100',
        state: 'FAILED',
        reason: null,
        node: 'node1',
        exitCode: '1:0',
        elapsedSeconds: 3,
        startTime: 1,
        endTime: 4,
        maxRssMB: null
      }
    ];
    fake.files.set(
      '/home/alice/.hpc-bridge/endpoints/b2c3/server.log',
      Buffer.from('loading model\nerror: failed to load model\n')
    );
    expect(await provider.status(h)).toEqual({
      state: 'failed',
      reason:
        'job 100 FAILED (exit 1:0): loading model | error: failed to load model'
    });
    fake.accounting = [
      { ...fake.accounting[0]!, state: 'CANCELLED by 1000', exitCode: '0:15' }
    ];
    expect(await provider.status(h)).toEqual({
      state: 'gone',
      reason: 'job 100 CANCELLED (exit 0:15)'
    });
    fake.accounting = [];
    advance(61_000);
    expect(await provider.status(h)).toEqual({
      state: 'gone',
      reason: 'job 100 is not known to SLURM'
    });
  });

  it('cancels as the owner, only while the job is queued', async () => {
    const { fake, provider } = fixture();
    const h = await provider.start(SPEC);
    await provider.stop(h);
    expect(fake.actions).toEqual([]);
    fake.queue = [queueRecord('100', 'RUNNING')];
    await provider.stop(h);
    expect(fake.actions).toEqual(['alice:cancel:100']);
  });

  it("lists the bridge's replica jobs with their hub owners", async () => {
    const { fake, provider } = fixture();
    fake.queue = [
      queueRecord('7', 'RUNNING', {
        name: 'hpcb-ep-e0a1-b2c3',
        user: 'u-alice'
      }),
      queueRecord('8', 'RUNNING', { name: 'notebook', user: 'u-alice' }),
      queueRecord('9', 'RUNNING', { name: 'hpcb-ep-ff-ee', user: 'root' })
    ];
    expect(await provider.list()).toEqual([
      {
        endpointId: 'e0a1',
        owner: 'alice',
        handle: {
          provider: 'slurm',
          replicaId: 'b2c3',
          ref: {
            cluster: 'demo',
            slurmId: '7',
            workdir: '',
            owner: 'alice',
            timeMinutes: 0,
            submittedAt: 1000
          }
        }
      }
    ]);
  });

  it('maps cluster accounts back to hub users', () => {
    expect(hubUserOf({ template: '{user}' }, 'alice')).toBe('alice');
    expect(hubUserOf({ template: 'hpc_{user}_x' }, 'hpc_bob_x')).toBe('bob');
    expect(hubUserOf({ template: 'hpc_{user}' }, 'root')).toBeNull();
    expect(hubUserOf({ table: { carol: 'c123' } }, 'c123')).toBe('carol');
    expect(hubUserOf({ table: { carol: 'c123' } }, 'c999')).toBeNull();
  });
});
