/**
 * Cluster kernels (bench/kernel_timing.py measures one kernel per call, driven by
 * jupyter_client as the lab drives it):
 *
 *   round trip: a trivial cell (`1+1`, reply and idle status) on a cluster kernel (the
 *     launcher, the hub's proxy, the bridge, the user's SSH connection to the kernel's
 *     Unix sockets) against a local ipykernel on this host; the median of
 *     BENCH_KERNELS_CELLS cells per round.
 *   first result: from starting the kernel to the reply of its first cell, on an idle
 *     partition, against the same kernel job submitted by hand (`sbatch` as the user, a
 *     TCP connection file in their home, connected to directly: this one-node cluster's
 *     node is this host). The difference of the medians is what the bridge adds:
 *     the launcher, the submit over SSH, noticing that ipykernel listens, the relay.
 *
 * Env: BENCH_KERNELS_ROUNDS (default 5), BENCH_KERNELS_CELLS (default 100),
 * BENCH_KERNELS_PROFILE (default cpu-small), BENCH_KERNELS_PARTITION (its partition, cpu).
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import {
  BRIDGE_URL,
  createUserToken
} from '../server-bridge/test/integration/stack';
import { onIdleCluster } from './cluster-idle';
import { recordComparison } from './results';
import { alternate, compare, median, report } from './stats';

const ROUNDS = Number(process.env.BENCH_KERNELS_ROUNDS ?? 5);
const CELLS = Number(process.env.BENCH_KERNELS_CELLS ?? 100);
const PROFILE = process.env.BENCH_KERNELS_PROFILE ?? 'cpu-small';
const PARTITION = process.env.BENCH_KERNELS_PARTITION ?? 'cpu';
const USER = 'alice';
const TIMING = resolve(__dirname, 'kernel_timing.py');
const LAUNCHER = resolve(
  __dirname,
  '..',
  'stack/lab/cluster-kernel/launcher.mjs'
);

interface IKernelTiming {
  firstResultMs: number;
  roundTripsMs: number[];
}

function timed(args: string[], env: NodeJS.ProcessEnv = {}): IKernelTiming {
  const out = execFileSync('/usr/bin/python3', [TIMING, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 300_000
  });
  return JSON.parse(out.trim().split('\n').pop() ?? '') as IKernelTiming;
}

async function main(): Promise<void> {
  const token = await createUserToken(USER);
  const cluster = onIdleCluster(PARTITION, async () =>
    timed(['cluster', String(CELLS), LAUNCHER, PROFILE], {
      JUPYTERHUB_API_TOKEN: token,
      HPC_BRIDGE_URL: `${BRIDGE_URL}/`
    })
  );
  const local = async () => timed(['local', String(CELLS)]);
  const byHand = onIdleCluster(PARTITION, async () =>
    timed(['byhand', String(CELLS), PARTITION, USER])
  );
  await local(); // page cache: Python and ipykernel's modules

  const trips = await alternate(ROUNDS, local, cluster);
  const rtt = compare(
    trips.target.map(t => median(t.roundTripsMs)),
    trips.baseline.map(t => median(t.roundTripsMs))
  );
  report(
    'cluster kernel: round trip of a trivial cell',
    { baseline: 'local ipykernel', target: `cluster kernel (${PROFILE})` },
    rtt,
    'ms'
  );
  recordComparison(
    {
      bench: 'kernels',
      metric: 'round trip of a trivial cell (median per round)',
      unit: 'ms',
      baseline: 'a local ipykernel on this host (jupyter_client)',
      better: 'lower',
      note: `${CELLS} cells of \`1+1\` per round; the cluster kernel's messages go launcher → hub proxy → bridge → SSH → Unix socket (target ≤ 1.3×)`
    },
    rtt
  );

  const starts = await alternate(ROUNDS, byHand, cluster);
  const first = compare(
    starts.target.map(t => t.firstResultMs / 1000),
    starts.baseline.map(t => t.firstResultMs / 1000)
  );
  report(
    'cluster kernel: start to first result, idle partition',
    {
      baseline: 'sbatch ipykernel by hand, connect directly',
      target: 'kernel spec → launcher → bridge'
    },
    first,
    's'
  );
  recordComparison(
    {
      bench: 'kernels',
      metric: 'start to first result, idle partition',
      unit: 's',
      baseline: `the same kernel job by hand: sbatch as ${USER} on ${PARTITION}, TCP connection file, connected to directly (the node is this host)`,
      better: 'lower',
      note: `the bridge adds ${(first.target.median - first.baseline.median).toFixed(2)} s (of the medians): launcher, submit over SSH, noticing ipykernel, the relay (target ≤ 3 s in all, ≤ 0.5 s of it the bridge's)`
    },
    first
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
