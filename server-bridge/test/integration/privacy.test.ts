/**
 * The demo stack is the reference deployment people copy: what a user stores must not be
 * readable by another Unix user on the same machine, whatever the bridge's API refuses.
 * Tried as bob with ordinary tools (`cat`, `find`, `grep`) after alice stored files on the
 * sensitive tier (Swift objects) and on scratch (SFTP), and submitted a job.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { JobSchema, Routes } from '../../src/contract';
import { STACK_DIR, bridge, createUserToken } from './stack';

jest.setTimeout(180_000);

const run = promisify(execFile);
const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const RUN = randomBytes(4).toString('hex');

/** Runs ARGV as Unix user bob; resolves with what it printed and its exit code. */
async function asBob(
  argv: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      '/usr/sbin/runuser',
      ['-u', 'bob', '--', ...argv],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    const error = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof error.code === 'number' ? error.code : 1,
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? ''
    };
  }
}

const q = (path: string) => `?${new URLSearchParams({ path }).toString()}`;

let alice: string;
const SECRET = `diagnosis-${RUN}`;
const SENSITIVE = `medical/privacy-${RUN}.csv`;
const SCRATCH = `privacy-${RUN}.txt`;

beforeAll(async () => {
  alice = await createUserToken('alice');
  for (const [tier, path] of [
    ['sensitive', SENSITIVE],
    ['scratch', SCRATCH]
  ] as const) {
    const res = await bridge(`${Routes.tierContent(tier)}${q(path)}`, alice, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: `${SECRET}\n`
    });
    expect(res.status).toBe(201);
  }
});

afterAll(async () => {
  for (const [tier, path] of [
    ['sensitive', SENSITIVE],
    ['scratch', SCRATCH]
  ] as const) {
    await bridge(`${Routes.tierFiles(tier)}${q(path)}`, alice, {
      method: 'DELETE'
    });
  }
});

describe('another Unix user (bob) on the bridge host', () => {
  it('cannot read any Swift object file, sensitive tier included', async () => {
    const objects = join(STACK_DIR, 'swift', 'srv');
    const found = await asBob(['find', objects, '-type', 'f', '-readable']);
    expect(found.stdout).toBe('');
    const grep = await asBob(['grep', '-rl', SECRET, objects]);
    expect(grep.stdout).toBe('');
    expect(grep.code).not.toBe(0);
  });

  it("cannot read the stack's logs, which name objects of the sensitive tier", async () => {
    const logs = join(STACK_DIR, 'log');
    const grep = await asBob(['grep', '-rl', `privacy-${RUN}`, logs]);
    expect(grep.stdout).toBe('');
    expect(grep.stderr).toMatch(/Permission denied/);
    expect((await asBob(['cat', join(logs, 'bridge.log')])).code).not.toBe(0);
  });

  it("cannot list alice's home or read her scratch files (written 600 over SFTP)", async () => {
    expect((await asBob(['ls', '/home/alice'])).code).not.toBe(0);
    const file = `/scratch/alice/${SCRATCH}`;
    expect((await asBob(['cat', file])).code).not.toBe(0);
    const { stdout } = await run('stat', ['-c', '%U %a', file]);
    expect(stdout.trim()).toBe('alice 600');
  });

  it("cannot read a job's files: jobs run with the umask of the SSH session (077)", async () => {
    const submitted = await bridge(Routes.jobs, alice, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: `privacy-${RUN}`,
        profile: 'cpu-small',
        notebook: {
          path: `work/privacy-${RUN}.ipynb`,
          content: {
            nbformat: 4,
            nbformat_minor: 5,
            metadata: {},
            cells: [
              {
                cell_type: 'code',
                id: 'c1',
                metadata: {},
                execution_count: null,
                outputs: [],
                source: `open('made-by-job-${RUN}.txt', 'w').write('${SECRET}')`
              }
            ]
          }
        }
      })
    });
    expect(submitted.status).toBe(201);
    const job = JobSchema.parse(submitted.body);
    let state = job.state;
    for (let i = 0; i < 120 && !['COMPLETED', 'FAILED'].includes(state); i++) {
      await new Promise(r => setTimeout(r, 1000));
      state = JobSchema.parse(
        (await bridge(Routes.job(job.id), alice)).body
      ).state;
    }
    expect(state).toBe('COMPLETED');
    const { stdout } = await run('find', [
      '/home/alice',
      '-name',
      `made-by-job-${RUN}.txt`,
      '-printf',
      '%m\n'
    ]);
    expect(stdout.trim()).toBe('600');
  });

  it('./stack/status finds no data other users can read', async () => {
    const { stdout } = await run(join(REPO_ROOT, 'stack', 'status'), [], {
      timeout: 90_000
    }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
    expect(stdout).toMatch(/^private-data\s.*\sok$/m);
  });
});
