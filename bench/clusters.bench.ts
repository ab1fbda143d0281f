/**
 * GET /api/v1/clusters through the hub's proxy and the bridge, against its
 * baseline: the raw `sinfo --json` over an already-open SSH connection, which is
 * the least any tool pays to learn the same facts. The two alternate round by round
 * (stats.ts); each round times a few requests per side and keeps their median. Prints
 * and records the median of the rounds, their min–max and the per-round ratios, plus
 * the bridge's resident memory before and after.
 *
 * Env: BENCH_ROUNDS (alternated rounds, default 8, at least 5 makes sense),
 * BENCH_CLUSTERS_REQUESTS (requests per side per round, default 5).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'ssh2';
import {
  BRIDGE_URL,
  STACK_DIR,
  createUserToken
} from '../server-bridge/test/integration/stack';
import { record, recordComparison } from './results';
import { alternate, compare, medianMs, report } from './stats';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const REQUESTS = Number(process.env.BENCH_CLUSTERS_REQUESTS ?? 5);

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

  const viaSinfo = async () => {
    JSON.parse(await sinfo(client));
  };
  const viaBridge = async () => {
    const res = await fetch(`${BRIDGE_URL}/api/v1/clusters`, {
      headers: { Authorization: `token ${token}` }
    });
    if (res.status !== 200) {
      throw new Error(`/clusters answered ${res.status}`);
    }
    await res.json();
  };
  // Warm-up: the SSH channel, the HTTP connection, the bridge's sinfo cache, the JIT.
  await viaSinfo();
  await viaBridge();
  const rounds = await alternate(
    ROUNDS,
    () => medianMs(REQUESTS, viaSinfo),
    () => medianMs(REQUESTS, viaBridge)
  );
  client.end();

  const c = compare(rounds.target, rounds.baseline);
  report(
    `clusters (median of ${REQUESTS} requests per side per round)`,
    {
      baseline: 'raw sinfo --json over open ssh',
      target: 'GET /api/v1/clusters via hub proxy + bridge'
    },
    c,
    'ms'
  );
  recordComparison(
    {
      bench: 'clusters',
      metric: 'GET /api/v1/clusters via hub proxy + bridge',
      unit: 'ms',
      baseline: 'raw `sinfo --json` over an open SSH connection',
      better: 'lower',
      note: `the bridge caches sinfo for a few seconds; each round the median of ${REQUESTS} requests per side`
    },
    c
  );
  const rssAfter = bridgeRssKiB();
  record({
    bench: 'clusters',
    metric: `bridge RSS after ${ROUNDS * REQUESTS + 1} requests`,
    value: rssAfter / 1024,
    unit: 'MiB',
    baseline: 'bridge RSS before',
    baselineValue: rssBefore / 1024,
    better: 'lower',
    note: 'resident memory of the bridge process'
  });
  process.stdout.write(
    `bridge RSS: ${(rssBefore / 1024).toFixed(1)} MiB before, ${(rssAfter / 1024).toFixed(1)} MiB after ${ROUNDS * REQUESTS + 1} requests\n`
  );
}

main().catch(err => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
