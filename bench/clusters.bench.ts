/**
 * GET /api/v1/clusters through the hub's proxy and the bridge, against its
 * baseline: the raw `sinfo --json` over an already-open SSH connection, which is
 * the least any tool pays to learn the same facts. Prints medians, p95 and the
 * ratio, plus the bridge's resident memory before and after.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'ssh2';
import {
  BRIDGE_URL,
  STACK_DIR,
  createUserToken
} from '../server-bridge/test/integration/stack';
import { record } from './results';
import { report, sample } from './stats';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);

function connect(): Promise<Client> {
  const client = new Client();
  return new Promise((resolve, reject) => {
    client
      .on('ready', () => resolve(client))
      .on('error', reject)
      .connect({
        host: '127.0.0.1',
        port: 2222,
        username: 'hpcbridge',
        privateKey: readFileSync(join(STACK_DIR, 'bridge', 'service_ed25519'))
      });
  });
}

function sinfo(client: Client): Promise<string> {
  return new Promise((resolve, reject) => {
    client.exec('sinfo --json', (err, stream) => {
      if (err) {
        return reject(err);
      }
      let out = '';
      stream
        .on('data', (chunk: Buffer) => (out += chunk.toString()))
        .on('close', (code: number) =>
          code === 0 ? resolve(out) : reject(new Error(`sinfo exit ${code}`))
        );
      stream.stderr.resume();
    });
  });
}

function bridgeRssKiB(): number {
  const pid = readFileSync(join(STACK_DIR, 'run', 'bridge.pid'), 'utf8').trim();
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

async function main(): Promise<void> {
  const token = await createUserToken('alice');
  const client = await connect();
  const rssBefore = bridgeRssKiB();

  const baseline = await sample(ROUNDS, async () => {
    JSON.parse(await sinfo(client));
  });
  const bridge = await sample(ROUNDS, async () => {
    const res = await fetch(`${BRIDGE_URL}/api/v1/clusters`, {
      headers: { Authorization: `token ${token}` }
    });
    if (res.status !== 200) {
      throw new Error(`/clusters answered ${res.status}`);
    }
    await res.json();
  });
  client.end();

  report('clusters', [
    ['raw sinfo --json over open ssh (baseline)', baseline],
    ['GET /api/v1/clusters via hub proxy + bridge', bridge]
  ]);
  record({
    bench: 'clusters',
    metric: 'GET /api/v1/clusters via hub proxy + bridge, median',
    value: bridge.median,
    unit: 'ms',
    baseline: 'raw `sinfo --json` over an open SSH connection',
    baselineValue: baseline.median,
    note: `lower is better; the bridge caches sinfo for a few seconds; ${ROUNDS} rounds`
  });
  const rssAfter = bridgeRssKiB();
  record({
    bench: 'clusters',
    metric: `bridge RSS after ${ROUNDS} requests`,
    value: rssAfter / 1024,
    unit: 'MiB',
    baseline: 'bridge RSS before',
    baselineValue: rssBefore / 1024,
    note: 'resident memory of the bridge process'
  });
  process.stdout.write(
    `bridge RSS: ${(rssBefore / 1024).toFixed(1)} MiB before, ${(rssAfter / 1024).toFixed(1)} MiB after ${ROUNDS} requests\n`
  );
}

main().catch(err => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
