/**
 * Jobs through the bridge against their baselines, measured in the same run:
 * (a) submit latency: POST /api/v1/jobs vs a fresh `ssh alice@login sbatch`, one submit
 *     per side per round, the sides alternating round by round (stats.ts);
 * (b) slurmctld load while N users watch their jobs: N SSE subscribers of the
 *     bridge (one poller per cluster) vs N users each polling `squeue` per tick,
 *     counted with sdiag's RPC statistics.
 *
 * Env: BENCH_ROUNDS (alternated rounds of (a), default 10, at least 5 makes sense), BENCH_SUBSCRIBERS (the values of N,
 * default 10,100,1000; the subscribers cycle over alice, bob and carol),
 * BENCH_WINDOW_MS (the counting window per N, default 9000).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  BRIDGE_URL,
  STACK_DIR,
  bridge,
  createUserToken
} from '../server-bridge/test/integration/stack';
import { rpcCounts, rpcDelta } from './slurm-rpc';
import { record, recordComparison } from './results';
import { alternate, compare, report } from './stats';
import { sshAlice } from './ssh';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const SUBSCRIBERS = (process.env.BENCH_SUBSCRIBERS ?? '10,100,1000')
  .split(',')
  .map(Number);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 9000);

const notebook = (source: string) => ({
  path: 'bench/bench.ipynb',
  content: {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3' } },
    cells: [{ cell_type: 'code', source, metadata: {}, outputs: [] }]
  }
});

function sshSbatch(): string {
  return sshAlice(
    'sbatch --parsable --partition=cpu --output=/dev/null --wrap=true'
  );
}

async function submit(token: string, source: string): Promise<string> {
  const res = await bridge('/api/v1/jobs', token, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      name: 'bench',
      notebook: notebook(source),
      profile: 'cpu-small'
    })
  });
  if (res.status !== 201) {
    throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return (res.body as { id: string }).id;
}

async function timedMs(task: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await task();
  return performance.now() - start;
}

async function submitLatency(token: string): Promise<string[]> {
  const bridgeIds: string[] = [];
  const viaSsh = async () => {
    sshSbatch();
  };
  const viaBridge = async () => {
    bridgeIds.push(await submit(token, 'x = 1'));
  };
  // Warm-up: the bridge's SSH connection, the HTTP connection, the JIT.
  await viaSsh();
  await viaBridge();
  const rounds = await alternate(
    ROUNDS,
    () => timedMs(viaSsh),
    () => timedMs(viaBridge)
  );
  const c = compare(rounds.target, rounds.baseline);
  report(
    'jobs: submit latency',
    {
      baseline: 'fresh ssh + sbatch --wrap',
      target: 'POST /api/v1/jobs (notebook, sftp, sbatch)'
    },
    c,
    'ms'
  );
  recordComparison(
    {
      bench: 'jobs',
      metric: 'submit a notebook: POST /api/v1/jobs',
      unit: 'ms',
      baseline: 'fresh `ssh alice@login sbatch --wrap`',
      better: 'lower',
      note: 'the bridge keeps its SSH connection open and also uploads the notebook over SFTP; one submit per side per round'
    },
    c
  );
  return bridgeIds;
}

/** Opens one SSE subscription; resolves once the response headers arrived. */
async function subscribe(token: string, signal: AbortSignal): Promise<void> {
  const res = await fetch(`${BRIDGE_URL}/api/v1/events`, {
    headers: { Authorization: `token ${token}` },
    signal
  });
  if (res.status !== 200 || !res.body) {
    throw new Error(`events: ${res.status}`);
  }
  const reader = res.body.getReader();
  void (async () => {
    try {
      while (!(await reader.read()).done) {
        // drain
      }
    } catch {
      // aborted at the end of the window
    }
  })();
}

function squeuePerPollRpcs(): number {
  const before = rpcCounts();
  const polls = 10;
  for (let i = 0; i < polls; i++) {
    execFileSync('runuser', ['-u', 'alice', '--', 'squeue', '--json'], {
      stdio: 'ignore'
    });
  }
  return rpcDelta(before, rpcCounts()) / polls;
}

function pollSeconds(): number {
  const config = readFileSync(join(STACK_DIR, 'bridge', 'config.yaml'), 'utf8');
  return Number(/pollSeconds:\s*(\d+(?:\.\d+)?)/.exec(config)?.[1] ?? 3);
}

async function watchLoad(tokens: string[]): Promise<void> {
  const perPoll = squeuePerPollRpcs();
  const ticks = WINDOW_MS / 1000 / pollSeconds();
  // A long job keeps the bridge's poller busy during every window.
  const sleeper = await submit(tokens[0], 'import time; time.sleep(120)');
  process.stdout.write(
    '\n## jobs: slurmctld RPCs while N users watch their jobs\n'
  );
  process.stdout.write(
    `one squeue --json poll = ${perPoll.toFixed(1)} RPCs; window ${WINDOW_MS / 1000} s = ${ticks.toFixed(1)} ticks\n`
  );
  for (const n of SUBSCRIBERS) {
    const abort = new AbortController();
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        subscribe(tokens[i % tokens.length], abort.signal)
      )
    );
    const before = rpcCounts();
    await new Promise(r => setTimeout(r, WINDOW_MS));
    const bridgeRpcs = rpcDelta(before, rpcCounts());
    abort.abort();
    const baselineRpcs = n * perPoll * ticks;
    process.stdout.write(
      `N=${String(n).padStart(5)}  each user polls squeue (baseline): ${baselineRpcs.toFixed(0).padStart(7)} RPCs` +
        `   bridge SSE: ${String(bridgeRpcs).padStart(5)} RPCs   ratio ${(bridgeRpcs / baselineRpcs).toFixed(4)}x\n`
    );
    record({
      bench: 'jobs',
      metric: `slurmctld RPCs in ${WINDOW_MS / 1000} s while N=${n} users watch over SSE`,
      value: bridgeRpcs,
      unit: 'RPCs',
      baseline: `N=${n} users each polling \`squeue --json\` every ${pollSeconds()} s`,
      baselineValue: baselineRpcs,
      better: 'lower',
      note: `baseline computed from ${perPoll.toFixed(1)} RPCs per measured squeue poll; all RPCs of the window counted, other clients included`
    });
  }
  await bridge(`/api/v1/jobs/${sleeper}/cancel`, tokens[0], { method: 'POST' });
}

async function main(): Promise<void> {
  const tokens = await Promise.all(
    ['alice', 'bob', 'carol'].map(user => createUserToken(user))
  );
  const ids = await submitLatency(tokens[0]);
  await watchLoad(tokens);
  await Promise.all(
    ids.map(id =>
      bridge(`/api/v1/jobs/${id}/cancel`, tokens[0], { method: 'POST' })
    )
  );
}

main().catch(err => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
