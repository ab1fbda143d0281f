/**
 * `hpc-bridge check-config --online` (the built CLI) against the running stack: its own
 * rendered config passes; copies with a wrong SSH port, S3 secret or hub token fail, each
 * with its own line.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { STACK_DIR } from './stack';

const CLI = resolve(__dirname, '..', '..', 'lib', 'main.js');
const CONFIG = join(STACK_DIR, 'bridge', 'config.yaml');

/** What the hub gives the bridge (stack/hub/jupyterhub_config.py). */
function bridgeEnv(): NodeJS.ProcessEnv {
  const secret = (name: string): string =>
    readFileSync(join(STACK_DIR, 'bridge', name), 'utf8').trim();
  return {
    PATH: process.env.PATH,
    JUPYTERHUB_API_TOKEN: secret('hub-api.token'),
    HPC_BRIDGE_SECRET_KEY: secret('secret.key')
  };
}

interface IRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<IRun> {
  return new Promise(done => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: bridgeEnv() },
      (err, stdout, stderr) => {
        done({
          code:
            err === null ? 0 : typeof err.code === 'number' ? err.code : null,
          stdout,
          stderr
        });
      }
    );
  });
}

/** A copy of the stack's config with `edit` applied (its paths are absolute). */
function copyWith(
  edit: (doc: ReturnType<typeof parseDocument>) => void
): string {
  const doc = parseDocument(readFileSync(CONFIG, 'utf8'));
  edit(doc);
  const file = join(mkdtempSync(join(tmpdir(), 'hpc-check-config-')), 'c.yaml');
  writeFileSync(file, doc.toString());
  return file;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise<void>(r => server.close(() => r()));
  if (address === null || typeof address === 'string') {
    throw new Error('no port');
  }
  return address.port;
}

describe('hpc-bridge check-config --online against the stack', () => {
  it("passes the stack's own config, with a line for each check", async () => {
    const run = await cli(['check-config', CONFIG, '--online']);
    const lines = run.stdout.trim().split('\n');
    expect({ code: run.code, last: lines.at(-1) }).toEqual({
      code: 0,
      last: expect.stringMatching(
        /: OK — 2 clusters, 3 profiles, 5 tiers, 2 models/
      )
    });
    for (const expected of [
      /: hub\.apiToken: ok: .*the token is service hpc-bridge$/,
      /: hub: ok: the hub has the groups ml101, climate, genomics, medical$/,
      /: clusters\[0\]\.ssh: ok: demo: 127\.0\.0\.1:2222 has the pinned ssh-ed25519 host key; logged in as hpcbridge$/,
      /: clusters\[0\]: ok: demo: partitions cpu, gpu$/,
      /: clusters\[1\]\.ssh: ok: demo2: 127\.0\.0\.1:2223 has the pinned ssh-ed25519 host key; logged in as hpcbridge$/,
      /: clusters\[1\]: ok: demo2: partitions batch2$/,
      /: s3\[0\]: ok: demo: http:\/\/127\.0\.0\.1:8080 accepts the credentials$/,
      /: s3\[0\]: ok: demo: buckets hpc-project, hpc-archive, hpc-public, hpc-sensitive exist$/
    ]) {
      expect(lines).toContainEqual(expect.stringMatching(expected));
    }
    expect(lines.filter(l => / (ok|warning): /.test(l) === false)).toEqual([
      lines.at(-1)
    ]);
  });

  it('fails a copy with a wrong SSH port, S3 secret and hub token, one line each', async () => {
    const port = await closedPort();
    const file = copyWith(doc => {
      doc.setIn(['clusters', 0, 'ssh', 'port'], port);
      doc.setIn(
        ['s3', 0, 'secretAccessKey'],
        doc.createNode({ value: 'not-the-secret' })
      );
      doc.setIn(
        ['hub', 'apiToken'],
        doc.createNode({ value: 'not-the-token' })
      );
    });
    const run = await cli(['check-config', file, '--online']);
    expect(run.code).toBe(1);
    const problems = run.stdout
      .trim()
      .split('\n')
      .filter(l => !/ (ok|warning): /.test(l))
      .map(l => l.slice(file.length + 2));
    expect(problems).toEqual([
      expect.stringMatching(
        /^hub\.apiToken: the hub at http:\/\/127\.0\.0\.1:8081\/hub\/api refused the bridge's API token \(403/
      ),
      `clusters[0].ssh: demo: cannot connect to 127.0.0.1:${port} as hpcbridge: connect ECONNREFUSED 127.0.0.1:${port}`,
      expect.stringMatching(
        /^s3\[0\]\.secretAccessKey: demo: http:\/\/127\.0\.0\.1:8080 refused the credentials \(SignatureDoesNotMatch\)/
      ),
      // Warnings depend on the stack: without OpenStack the demo models name a provider
      // the file does not configure.
      expect.stringMatching(/^3 problems(, \d+ warnings?)?$/)
    ]);
    expect(run.stdout).not.toContain('not-the-secret');
    expect(run.stdout).not.toContain('not-the-token');
  });

  it('reports a missing bucket, partition and hub group as JSON', async () => {
    const file = copyWith(doc => {
      doc.setIn(['storage', 'tiers', 1, 's3', 'bucket'], 'hpc-no-such-bucket');
      doc.setIn(['profiles', 1, 'partition'], 'bigmem');
      doc.setIn(
        ['storage', 'tiers', 4, 'read'],
        doc.createNode(['medical', 'no-such-group'])
      );
    });
    const run = await cli(['check-config', file, '--online', '--json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as {
      ok: boolean;
      findings: { status: string; path: string; message: string }[];
    };
    expect(report.ok).toBe(false);
    const notOk = report.findings.filter(
      f => f.status !== 'ok' && f.path !== null && !f.path.startsWith('models')
    );
    expect(notOk).toEqual([
      {
        status: 'warning',
        check: 'groups',
        path: 'storage.tiers[4].read[1]',
        message: 'the hub has no group "no-such-group"'
      },
      {
        status: 'error',
        check: 'slurm',
        path: 'profiles[1].partition',
        message: 'demo has no partition "bigmem" (it has cpu, gpu)'
      },
      {
        status: 'error',
        check: 's3',
        path: 'storage.tiers[1].s3.bucket',
        message: 'demo has no bucket "hpc-no-such-bucket"'
      }
    ]);
  });

  it('exits 2 on a usage error', async () => {
    const run = await cli(['check-config']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/check-config needs a FILE/);
  });
});
