/**
 * Two bridge replicas against one, in the production shape (`./stack/up --with-postgres
 * --replicas 2`: both bridges behind HAProxy on one PostgreSQL store). The baseline is
 * the same stack with the follower stopped (`stack/ctl stop bridge-N`, HAProxy sees it
 * down): one bridge serves everything, as a deployment of one would. Each round measures
 * one side, then the other (the baseline first on even rounds):
 *
 *   (a) gateway requests/s of 64 concurrent clients: `GET /v1/models` with a key (the
 *       gateway's own work: key lookup, the catalog, accounting) and 8-token chat
 *       completions of the demo model (bounded by the one llama-server behind both);
 *   (b) event streams: N subscribers of `GET /api/v1/events` (three users) while each
 *       user submits a job: how many streams see their job's final state, and the
 *       delivery lag of job events (arrival − the job's `updatedAt`);
 *   (c) slurmctld RPCs in a window with a job running: only the leader polls SLURM, so
 *       two replicas must cost what one does.
 *
 * Both replicas run on this one machine: a second replica adds a process, not cores,
 * so (a) measures what the split costs or gains here, not the capacity of two hosts.
 * If the stack is not in the production shape, the bench switches it there first and
 * back afterwards (about half a minute each way).
 *
 * Env: BENCH_REPLICAS_ROUNDS (default 5), BENCH_REPLICAS_CLIENTS (default 64),
 * BENCH_REPLICAS_WINDOW_MS (per side per round of (a), default 4000),
 * BENCH_REPLICAS_SUBSCRIBERS (default 500), BENCH_REPLICAS_RPC_WINDOW_MS (default 9000).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { type ModelCatalog, Routes } from '../server-bridge/src/contract';
import {
  STACK_DIR,
  bridge,
  code,
  createUserToken,
  notebook,
  send
} from '../server-bridge/test/integration/stack';
import {
  type IReplica,
  leaderSeenBy,
  replicaOf,
  stackReplicas
} from '../server-bridge/test/replicas/stack-replicas';
import {
  complete,
  type ITarget,
  listModels,
  startEndpoint,
  throughput
} from './gateway-client';
import { sleep } from './llama';
import { recordComparison } from './results';
import { rpcCounts, rpcDelta } from './slurm-rpc';
import { EventTally, type ISubscription, subscribe } from './sse';
import { alternateRounds, compare, percentile, report } from './stats';

const ROUNDS = Number(process.env.BENCH_REPLICAS_ROUNDS ?? 5);
const CLIENTS = Number(process.env.BENCH_REPLICAS_CLIENTS ?? 64);
const WINDOW_MS = Number(process.env.BENCH_REPLICAS_WINDOW_MS ?? 4000);
const SUBSCRIBERS = Number(process.env.BENCH_REPLICAS_SUBSCRIBERS ?? 500);
const RPC_WINDOW_MS = Number(process.env.BENCH_REPLICAS_RPC_WINDOW_MS ?? 9000);
const MODEL = 'tiny-random';
const USERS = ['alice', 'bob', 'carol'];
const FINAL_STATE_TIMEOUT_MS = 60_000;

const REPO_ROOT = resolve(__dirname, '..');
/** The replicas' service URL: HAProxy, which the hub's proxy forwards to. */
const SERVICE_URL = 'http://127.0.0.1:8765/services/hpc-bridge';

function stack(...args: string[]): void {
  execFileSync(join(REPO_ROOT, 'stack', args[0]), args.slice(1), {
    stdio: ['ignore', 'ignore', 'inherit']
  });
}

/** The shape the stack is in: its remembered replica count and store. */
function shape(): { replicas: number; postgres: boolean } {
  const file = join(STACK_DIR, 'replicas');
  return {
    replicas: existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : 1,
    postgres: existsSync(join(STACK_DIR, 'postgres', 'enabled'))
  };
}

/** One command to HAProxy's admin socket, its answer. */
function haproxy(command: string): Promise<string> {
  return new Promise((done, fail) => {
    const socket = connect(join(STACK_DIR, 'haproxy', 'admin.sock'));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => done(answer));
    socket.on('error', fail);
    socket.end(`${command}\n`);
  });
}

/** Waits until HAProxy's health checks say `replica` is `status` (UP or DOWN). */
async function balancerSees(
  replica: IReplica,
  status: 'UP' | 'DOWN'
): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const csv = await haproxy('show stat');
    const line = csv
      .split('\n')
      .find(l => l.startsWith(`replicas,${replica.name},`));
    const header = csv.split('\n')[0].replace(/^# /, '').split(',');
    const seen = line?.split(',')[header.indexOf('status')];
    if (seen === status) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`HAProxy still says ${replica.name} is ${seen ?? '?'}`);
    }
    await sleep(200);
  }
}

interface ISide {
  models: number;
  completions: number;
  errors: number;
  held: number;
  lagP50: number;
  lagP99: number;
  rpcs: number;
}

async function submit(token: string, source = 'x = 1'): Promise<string> {
  const res = await send(token, 'POST', Routes.jobs, {
    name: 'bench-replicas',
    notebook: {
      path: 'bench/replicas.ipynb',
      content: notebook(code(source))
    },
    profile: 'cpu-small'
  });
  if (res.status !== 201) {
    throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return (res.body as { id: string }).id;
}

/**
 * (b): SUBSCRIBERS streams over the service URL, one job per user; the streams that saw
 * their user's job end, and the lag of every job event they got.
 */
async function streams(
  tokens: string[]
): Promise<{ held: number; lagP50: number; lagP99: number }> {
  const tally = new EventTally(SUBSCRIBERS);
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const open: ISubscription[] = [];
  try {
    for (let i = 0; i < SUBSCRIBERS; i += 50) {
      open.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(50, SUBSCRIBERS - i) }, (_, k) =>
            subscribe({
              url: `${SERVICE_URL}${Routes.events}`,
              token: tokens[(i + k) % USERS.length],
              user: USERS[(i + k) % USERS.length],
              index: i + k,
              tally,
              agent
            })
          )
        ))
      );
    }
    const jobs = await Promise.all(tokens.map(t => submit(t)));
    const subscribersOf = (u: number) =>
      Array.from({ length: SUBSCRIBERS }, (_, s) => s).filter(
        s => s % USERS.length === u
      );
    const heldNow = () =>
      jobs.reduce(
        (sum, job, u) =>
          sum +
          subscribersOf(u).filter(s => tally.saw(job, s, 'COMPLETED')).length,
        0
      );
    const deadline = Date.now() + FINAL_STATE_TIMEOUT_MS;
    while (heldNow() < SUBSCRIBERS && Date.now() < deadline) {
      await sleep(250);
    }
    return {
      held: heldNow(),
      lagP50: percentile(tally.lags, 0.5),
      lagP99: percentile(tally.lags, 0.99)
    };
  } finally {
    open.forEach(s => s.close());
    agent.destroy();
  }
}

/** (c): slurmctld RPCs of RPC_WINDOW_MS while a job of alice's runs. */
async function pollerRpcs(): Promise<number> {
  const before = rpcCounts();
  await sleep(RPC_WINDOW_MS);
  return rpcDelta(before, rpcCounts());
}

async function measure(key: ITarget, tokens: string[]): Promise<ISide> {
  const models = await throughput(key.label, CLIENTS, WINDOW_MS, () =>
    listModels(key)
  );
  const completions = await throughput(key.label, CLIENTS, WINDOW_MS, () =>
    complete(key, MODEL, 8)
  );
  const events = await streams(tokens);
  return {
    models: models.rps,
    completions: completions.rps,
    errors: models.errors + completions.errors,
    ...events,
    rpcs: await pollerRpcs()
  };
}

function record(
  metric: string,
  unit: string,
  better: 'lower' | 'higher',
  c: ReturnType<typeof compare>,
  note: string
): void {
  report(
    `replicas: ${metric}`,
    { baseline: 'one replica', target: 'two replicas' },
    c,
    unit
  );
  recordComparison(
    {
      bench: 'replicas',
      metric: `${metric}, two replicas`,
      unit,
      baseline: 'one replica (the follower stopped)',
      better,
      note
    },
    c
  );
}

async function main(): Promise<void> {
  const before = shape();
  const switched = before.replicas < 2 || !before.postgres;
  if (switched) {
    process.stdout.write('switching the stack to the production shape\n');
    stack('up', '--with-postgres', '--replicas', '2');
  }
  const tokens = await Promise.all(USERS.map(u => createUserToken(u)));
  const admin = await createUserToken('admin');
  const all = stackReplicas();
  const leader = replicaOf(all, await leaderSeenBy(all[0].port, admin));
  const follower = all.find(r => r !== leader);
  if (leader === undefined || follower === undefined) {
    throw new Error('no leader among the stack replicas, or no follower');
  }
  const catalog = (await bridge(Routes.modelCatalog, tokens[0]))
    .body as ModelCatalog;
  const endpoint = await startEndpoint({
    token: tokens[0],
    catalog,
    model: MODEL,
    provider: 'local'
  });
  const key: ITarget = {
    ...endpoint.target,
    label: 'gateway via the balancer',
    baseUrl: `${SERVICE_URL}/v1`
  };
  // A long job keeps the leader's poller busy in every window of (c).
  const sleeper = await submit(tokens[0], 'import time; time.sleep(900)');
  try {
    await throughput(key.label, CLIENTS, 1000, () => complete(key, MODEL, 8));
    const [one, two] = await alternateRounds<ISide>(ROUNDS, [
      async () => {
        stack('ctl', 'stop', follower.name);
        await balancerSees(follower, 'DOWN');
        return measure(key, tokens);
      },
      async () => {
        stack('ctl', 'start', follower.name);
        await balancerSees(follower, 'UP');
        return measure(key, tokens);
      }
    ]);
    const side = (runs: ISide[], field: keyof ISide) => runs.map(r => r[field]);
    const compared = (field: keyof ISide) =>
      compare(side(two, field), side(one, field));
    const errors = `errors: ${side(two, 'errors').reduce((a, b) => a + b, 0)} with two, ${side(one, 'errors').reduce((a, b) => a + b, 0)} with one`;
    const setup = `both replicas and the one llama-server on this machine, via HAProxy`;
    record(
      `${CLIENTS} concurrent clients, GET /v1/models with a key`,
      'req/s',
      'higher',
      compared('models'),
      `${WINDOW_MS / 1000} s per side per round; ${errors}; ${setup}`
    );
    record(
      `${CLIENTS} concurrent clients, 8-token completions`,
      'req/s',
      'higher',
      compared('completions'),
      `${WINDOW_MS / 1000} s per side per round; ${setup}`
    );
    record(
      `event streams that saw their job's final state, of ${SUBSCRIBERS}`,
      'streams',
      'higher',
      compared('held'),
      `${SUBSCRIBERS} subscribers of three users, one job per user per round, ${FINAL_STATE_TIMEOUT_MS / 1000} s to see it end; ${setup}`
    );
    for (const p of ['lagP50', 'lagP99'] as const) {
      record(
        `job event delivery lag with ${SUBSCRIBERS} streams, ${p === 'lagP50' ? 'p50' : 'p99'}`,
        'ms',
        'lower',
        compared(p),
        'arrival − the job’s updatedAt (written by the leader’s poller); a follower’s streams get it through the event log it tails'
      );
    }
    record(
      `slurmctld RPCs in ${RPC_WINDOW_MS / 1000} s with a job running`,
      'RPCs',
      'lower',
      compared('rpcs'),
      'only the leader polls SLURM; all RPCs of the window counted, other clients included'
    );
  } finally {
    const running = stackReplicas();
    if (!running.some(r => r.name === follower.name)) {
      stack('ctl', 'start', follower.name);
    }
    await send(tokens[0], 'POST', Routes.jobAction(sleeper, 'cancel'));
    await bridge(Routes.endpoint(endpoint.id), tokens[0], { method: 'DELETE' });
    if (switched) {
      process.stdout.write('switching the stack back\n');
      stack(
        'up',
        before.postgres ? '--with-postgres' : '--without-postgres',
        '--replicas',
        String(before.replicas)
      );
    }
  }
}

main().catch(err => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
