/**
 * Cluster kernels in the real stack: a kernel started the way the lab starts it
 * (jupyter_client + the launcher, kernel_driver.py) runs as alice's SLURM job, answers
 * execute, input() and interrupt through the bridge's relay, and its job is gone from the
 * queue within seconds of the shutdown. Bob reaches neither its channels through the
 * bridge nor its runtime folder and sockets on the machine.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { WebSocket } from 'ws';
import {
  KernelListSchema,
  KernelSpecListSchema,
  Routes,
  type ClusterKernel
} from '../../src/contract';
import {
  BRIDGE_URL,
  HUB_URL,
  bridge,
  createUserToken,
  ensureServer
} from './stack';

jest.setTimeout(240_000);

const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const LAUNCHER = resolve(REPO_ROOT, 'stack/lab/cluster-kernel/launcher.mjs');
const DRIVER = resolve(__dirname, 'kernel_driver.py');
const PROFILE = 'cpu-small';

let alice: string;
let bob: string;

beforeAll(async () => {
  [alice, bob] = await Promise.all([
    createUserToken('alice'),
    createUserToken('bob')
  ]);
});

/** `STATE` of a job in the queue, or '' once it left. */
function squeue(slurmId: string): string {
  try {
    return execFileSync('squeue', ['-h', '-j', slurmId, '-o', '%T'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore']
    }).trim();
  } catch {
    return '';
  }
}

/** '' once the job left the queue (waits up to 15 s), else its state. */
async function gone(slurmId: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  while (squeue(slurmId) !== '' && Date.now() < deadline) {
    await new Promise(r => setTimeout(r, 250));
  }
  return squeue(slurmId);
}

/** Runs ARGV as Unix user bob; resolves its exit code and stderr. */
function asBob(argv: string[]): { code: number; stderr: string } {
  try {
    execFileSync('/usr/sbin/runuser', ['-u', 'bob', '--', ...argv], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 30_000
    });
    return { code: 0, stderr: '' };
  } catch (e) {
    const err = e as { status?: number; stderr?: Buffer };
    return { code: err.status ?? 1, stderr: String(err.stderr ?? '') };
  }
}

/** The HTTP status the bridge answers a WebSocket to `path` with `token`; 101 if it opened. */
function upgradeStatus(path: string, token: string): Promise<number> {
  const ws = new WebSocket(`${BRIDGE_URL.replace(/^http/, 'ws')}${path}`, {
    headers: { Authorization: `token ${token}` }
  });
  return new Promise((ok, ko) => {
    ws.once('open', () => {
      ws.close();
      ok(101);
    });
    ws.once('unexpected-response', (_req, res) => ok(res.statusCode ?? 0));
    ws.once('error', ko);
  });
}

interface IStep {
  step?: string;
  error?: string;
  [key: string]: unknown;
}

describe('cluster kernels', () => {
  it('lists the enabled profiles as kernel specs, also in the lab (server token, HPC_BRIDGE_URL)', async () => {
    const specs = await bridge(Routes.kernelSpecs, alice);
    expect(specs.status).toBe(200);
    expect(
      KernelSpecListSchema.parse(specs.body).specs.map(s => s.name)
    ).toContain(`hpcb-${PROFILE}`);
    // The lab's kernel spec manager asks the bridge with the server's own token.
    await ensureServer('alice');
    const res = await fetch(`${HUB_URL}/user/alice/api/kernelspecs`, {
      headers: { Authorization: `token ${alice}` }
    });
    expect(res.status).toBe(200);
    const lab = (await res.json()) as {
      kernelspecs: Record<
        string,
        { spec: { display_name: string; argv: string[] } }
      >;
    };
    const spec = lab.kernelspecs[`hpcb-${PROFILE}`];
    expect({
      names: Object.keys(lab.kernelspecs),
      display: spec?.spec.display_name,
      launcher: spec?.spec.argv[1]?.endsWith('cluster-kernel/launcher.mjs')
    }).toEqual({
      names: expect.arrayContaining(['python3', `hpcb-${PROFILE}`]),
      display: 'Python 3 on cluster — CPU, small',
      launcher: true
    });
  });

  it("runs alice's kernel as her job: execute, input(), interrupt, restart, shutdown; bob reaches nothing", async () => {
    const driver = spawn('/usr/bin/python3', [DRIVER, LAUNCHER, PROFILE], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        JUPYTERHUB_API_TOKEN: alice,
        HPC_BRIDGE_URL: `${BRIDGE_URL}/`
      },
      stdio: ['pipe', 'pipe', 'pipe']
    });
    let stderr = '';
    driver.stderr.on('data', c => (stderr += String(c)));
    const steps: IStep[] = [];
    // One iterator for every step: a for-await loop left early would close the lines.
    const lines = createInterface({ input: driver.stdout })[
      Symbol.asyncIterator
    ]();
    const next = async (step: string): Promise<IStep> => {
      for (
        let read = await lines.next();
        read.done !== true;
        read = await lines.next()
      ) {
        const s = JSON.parse(read.value) as IStep;
        steps.push(s);
        if (s.error !== undefined) {
          throw new Error(
            `driver: ${s.error}\nlauncher/kernel stderr:\n${stderr.slice(-3000)}`
          );
        }
        if (s.step === step) {
          return s;
        }
      }
      throw new Error(
        `driver ended before step ${step} (steps ${JSON.stringify(steps)}); stderr:\n${stderr.slice(-3000)}`
      );
    };
    try {
      const ready = await next('ready');
      const job = await next('job');
      const slurmId = String(job.slurmJobId);
      expect(slurmId).toMatch(/^\d+$/);
      expect(job.squeue).toBe('alice RUNNING');
      expect((await next('roundtrip')).result).toBe('2');
      expect((await next('stdin')).output).toBe('got from-stdin');
      expect(Number((await next('interrupt')).seconds)).toBeLessThan(5);
      // A restart is a new job; the old one leaves the queue.
      const restart = await next('restart');
      expect(restart.previous).toBe(slurmId);
      expect(restart.slurmJobId).not.toBe(slurmId);
      expect({ old: slurmId, queue: await gone(slurmId) }).toEqual({
        old: slurmId,
        queue: ''
      });
      await next('running');
      const restartedId = String(restart.slurmJobId);

      // The bridge's record of it, and what bob can reach.
      const mine = await bridge(Routes.kernels, alice);
      const kernel = KernelListSchema.parse(mine.body).kernels.find(
        k => k.slurmId === restartedId
      ) as ClusterKernel;
      expect(kernel).toMatchObject({ owner: 'alice', state: 'running' });
      expect(Number(ready.seconds)).toBeLessThan(60);
      for (const channel of ['shell', 'iopub', 'control'] as const) {
        const path = Routes.kernelChannel(kernel.id, channel);
        expect({ channel, bob: await upgradeStatus(path, bob) }).toEqual({
          channel,
          bob: 404
        });
      }
      expect((await bridge(Routes.kernel(kernel.id), bob)).status).toBe(404);
      const home = execFileSync('getent', ['passwd', 'alice'], {
        encoding: 'utf8'
      }).split(':')[5];
      const dir = `${home}/.hpc-bridge/kernels/${kernel.id}`;
      expect(asBob(['ls', dir]).code).not.toBe(0);
      expect(asBob(['cat', `${dir}/kernel.json`]).code).not.toBe(0);
      const connect = asBob([
        '/usr/bin/python3',
        '-c',
        `import socket; s = socket.socket(socket.AF_UNIX); s.connect(${JSON.stringify(`${dir}/k-1`)})`
      ]);
      expect(connect.code).not.toBe(0);
      expect(connect.stderr).toMatch(/Permission denied/);

      driver.stdin.write('continue\n');
      const shutdown = await next('shutdown');
      expect(Number(shutdown.seconds)).toBeLessThan(10);
      expect({ restartedId, queue: await gone(restartedId) }).toEqual({
        restartedId,
        queue: ''
      });
      const after = await bridge(Routes.kernel(kernel.id), alice);
      expect((after.body as ClusterKernel).state).toMatch(
        /^(ended|cancelled)$/
      );
    } finally {
      driver.kill('SIGKILL');
    }
  });

  it('refuses a profile that is not offered as a kernel, and resources beyond the limits', async () => {
    const start = {
      profile: PROFILE,
      jupyterKernelId: '00000000-0000-4000-8000-000000000000',
      connection: { key: 'k', signatureScheme: 'hmac-sha256' }
    };
    const tooBig = await bridge(Routes.kernels, alice, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...start, resources: { cpus: 64 } })
    });
    expect(tooBig.status).toBe(400);
    const unknown = await bridge(Routes.kernels, alice, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...start, profile: 'no-such-profile' })
    });
    expect(unknown.status).toBe(400);
  });
});
