/**
 * Load: N concurrent subscribers of `GET /api/v1/events` (spread over alice, bob and
 * carol) while notebooks are submitted at R per second for S seconds, all through the
 * hub's proxy as the panels do; then the same submit rate straight to the bridge's port
 * for a shorter while (the proxy's share), and, first of all, the baseline: raw `sbatch`
 * over ONE ssh connection at the same rate.
 *
 * Records submits attempted / accepted / errors by status and code, submit latency
 * p50/p99, whether every subscriber of a job's owner received every state of the job
 * (missing deliveries), event delivery lag p50/p99, the bridge's CPU (% of a core,
 * /proc/PID/stat) and peak RSS, the proxy's CPU, and slurmctld's RPCs per submit (sdiag).
 * Errors are reported, never asserted; timing never fails the benchmark.
 *
 * Afterwards every job it submitted is cancelled (`scancel --name` as root: the jobs
 * carry this run's name), every stream closed, and it waits until the bridge has seen
 * its jobs end.
 *
 * Env: BENCH_LOAD_SUBSCRIBERS (default 500), BENCH_LOAD_RATE (submits/s, default 50),
 * BENCH_LOAD_SECONDS (default 60), BENCH_LOAD_BASELINE_SECONDS (raw sbatch, default
 * min(20, S)), BENCH_LOAD_DIRECT_SECONDS (direct to :8765, default min(10, S); 0: skip).
 * A quick run: BENCH_LOAD_SUBSCRIBERS=60 BENCH_LOAD_RATE=10 BENCH_LOAD_SECONDS=10.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'ssh2';
import {
  BRIDGE_URL,
  STACK_DIR,
  createUserToken
} from '../server-bridge/test/integration/stack';
import { quantile, stackPid, UsageSampler, type IUsage } from './proc';
import { record } from './results';
import { rpcCounts, rpcDelta } from './slurm-rpc';
import { EventTally, subscribe, type ISubscription } from './sse';

const env = process.env;
const SUBSCRIBERS = Number(env.BENCH_LOAD_SUBSCRIBERS ?? 500);
const RATE = Number(env.BENCH_LOAD_RATE ?? 50);
const SECONDS = Number(env.BENCH_LOAD_SECONDS ?? 60);
const BASELINE_SECONDS = Number(
  env.BENCH_LOAD_BASELINE_SECONDS ?? Math.min(20, SECONDS)
);
const DIRECT_SECONDS = Number(
  env.BENCH_LOAD_DIRECT_SECONDS ?? Math.min(10, SECONDS)
);
const USERS = ['alice', 'bob', 'carol'];
const RUN_NAME = `load-${Date.now().toString(36)}`;
const MIB = 2 ** 20;

const sleep = (ms: number) =>
  new Promise<void>(r => setTimeout(r, Math.max(0, ms)));
const out = (text: string) => process.stdout.write(`${text}\n`);

function bridgeConfig(): { directUrl: string; pollSeconds: number } {
  const config = readFileSync(join(STACK_DIR, 'bridge', 'config.yaml'), 'utf8');
  const port = /listen:\s*\{[^}]*port:\s*(\d+)/.exec(config)?.[1] ?? '8765';
  const base = /basePath:\s*(\S+)/.exec(config)?.[1] ?? '/services/hpc-bridge/';
  return {
    directUrl: `http://127.0.0.1:${port}${base.replace(/\/+$/, '')}`,
    pollSeconds: Number(/pollSeconds:\s*(\d+(?:\.\d+)?)/.exec(config)?.[1] ?? 3)
  };
}

const notebook = {
  path: 'bench/load.ipynb',
  content: {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3' } },
    cells: [{ cell_type: 'code', source: 'x = 1', metadata: {}, outputs: [] }]
  }
};

/** The smallest job the cpu-small profile allows: one CPU, 100 MB, one minute. */
const SUBMIT_BODY = JSON.stringify({
  name: RUN_NAME,
  notebook,
  profile: 'cpu-small',
  resources: { timeMinutes: 1, cpus: 1, memoryMB: 100 }
});

interface ISubmitOutcome {
  ms: number;
  /** `201`, or `status code` of the error body, or `network …`. */
  outcome: string;
  /** The error message, for the printed examples. */
  message?: string;
  job?: { id: string; owner: string };
}

function post(
  url: string,
  token: string,
  body: string,
  agent: Agent
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        timeout: 120_000,
        headers: {
          Authorization: `token ${token}`,
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body)
        }
      },
      res => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      }
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

async function submitViaBridge(
  baseUrl: string,
  token: string,
  agent: Agent
): Promise<ISubmitOutcome> {
  const start = performance.now();
  try {
    const res = await post(`${baseUrl}/api/v1/jobs`, token, SUBMIT_BODY, agent);
    const ms = performance.now() - start;
    let parsed: {
      id?: string;
      owner?: string;
      error?: { code?: string; message?: string };
    } = {};
    try {
      parsed = JSON.parse(res.text) as typeof parsed;
    } catch {
      // not JSON (e.g. the proxy's own error page)
    }
    if (res.status === 201 && parsed.id && parsed.owner) {
      return {
        ms,
        outcome: '201',
        job: { id: parsed.id, owner: parsed.owner }
      };
    }
    return {
      ms,
      outcome: `${res.status} ${parsed.error?.code ?? res.text.slice(0, 40)}`,
      message: parsed.error?.message ?? res.text.slice(0, 200)
    };
  } catch (e) {
    return {
      ms: performance.now() - start,
      outcome: `network ${(e as Error).message}`
    };
  }
}

/** Starts `task(k)` at R per second for `seconds` (open loop), then awaits them all. */
async function atRate<T>(
  rate: number,
  seconds: number,
  task: (k: number) => Promise<T>
): Promise<{ results: T[]; maxInFlight: number }> {
  const total = Math.round(rate * seconds);
  const start = performance.now();
  const pending: Promise<T>[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  for (let k = 0; k < total; k++) {
    await sleep(start + (k * 1000) / rate - performance.now());
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    pending.push(
      task(k).finally(() => {
        inFlight -= 1;
      })
    );
  }
  return { results: await Promise.all(pending), maxInFlight };
}

interface IPhase {
  label: string;
  attempted: number;
  accepted: number;
  outcomes: Map<string, number>;
  p50: number;
  p99: number;
  maxInFlight: number;
  rpcs: number;
  jobs: { id: string; owner: string }[];
}

function summarise(
  label: string,
  results: ISubmitOutcome[],
  maxInFlight: number,
  rpcs: number
): IPhase {
  const outcomes = new Map<string, number>();
  const examples = new Map<string, string>();
  for (const r of results) {
    outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
    if (r.message !== undefined && !examples.has(r.outcome)) {
      examples.set(r.outcome, r.message);
    }
  }
  const ms = results.map(r => r.ms);
  const jobs = results.flatMap(r => (r.job ? [r.job] : []));
  const phase: IPhase = {
    label,
    attempted: results.length,
    accepted: jobs.length,
    outcomes,
    p50: quantile(ms, 0.5),
    p99: quantile(ms, 0.99),
    maxInFlight,
    rpcs,
    jobs
  };
  out(
    `${label}: ${phase.accepted}/${phase.attempted} accepted; p50 ${phase.p50.toFixed(0)} ms, p99 ${phase.p99.toFixed(0)} ms; at most ${maxInFlight} in flight; ${rpcs} slurmctld RPCs; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`
  );
  for (const [outcome, message] of examples) {
    out(`  e.g. ${outcome}: ${message.slice(0, 300)}`);
  }
  return phase;
}

function errorsOf(phase: IPhase): string {
  const errors = [...phase.outcomes].filter(([k]) => k !== '201');
  return errors.length === 0
    ? 'none'
    : errors.map(([k, n]) => `${n}× ${k}`).join(', ');
}

/** Raw `sbatch` over one SSH connection as alice (at most 8 channels open, like the bridge). */
async function rawSbatchPhase(): Promise<IPhase> {
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client
      .on('ready', resolve)
      .on('error', reject)
      .connect({
        host: '127.0.0.1',
        port: 2222,
        username: 'alice',
        privateKey: readFileSync(
          join(STACK_DIR, 'ssh', 'users', 'alice_ed25519')
        )
      });
  });
  const command = `sbatch --parsable --hold --job-name=${RUN_NAME}-raw --partition=cpu --time=1 --cpus-per-task=1 --mem=100 --output=/dev/null --wrap=true`;
  let free = 8;
  const waiters: (() => void)[] = [];
  const exec = (): Promise<string> =>
    new Promise((resolve, reject) => {
      client.exec(command, (err, stream) => {
        if (err) {
          reject(err);
          return;
        }
        let stdout = '';
        stream.on('data', (c: Buffer) => (stdout += c.toString()));
        stream.stderr.resume();
        stream.on('close', (code: number) =>
          code === 0
            ? resolve(stdout.trim())
            : reject(new Error(`exit ${code}`))
        );
      });
    });
  const before = rpcCounts();
  const { results, maxInFlight } = await atRate(
    RATE,
    BASELINE_SECONDS,
    async (): Promise<ISubmitOutcome> => {
      const start = performance.now();
      if (free > 0) {
        free -= 1;
      } else {
        await new Promise<void>(r => waiters.push(r));
      }
      try {
        const id = await exec();
        return {
          ms: performance.now() - start,
          outcome: '201',
          job: { id, owner: 'alice' }
        };
      } catch (e) {
        return {
          ms: performance.now() - start,
          outcome: `sbatch ${(e as Error).message}`
        };
      } finally {
        const next = waiters.shift();
        if (next) {
          next();
        } else {
          free += 1;
        }
      }
    }
  );
  const rpcs = rpcDelta(before, rpcCounts());
  client.end();
  return summarise(
    `raw sbatch over one ssh connection, ${RATE}/s for ${BASELINE_SECONDS} s`,
    results,
    maxInFlight,
    rpcs
  );
}

async function bridgePhase(
  label: string,
  baseUrl: string,
  seconds: number,
  tokens: string[],
  agent: Agent
): Promise<IPhase> {
  const before = rpcCounts();
  const { results, maxInFlight } = await atRate(RATE, seconds, k =>
    submitViaBridge(baseUrl, tokens[k % tokens.length], agent)
  );
  return summarise(label, results, maxInFlight, rpcDelta(before, rpcCounts()));
}

function scancelRun(): void {
  for (const name of [RUN_NAME, `${RUN_NAME}-raw`]) {
    try {
      execFileSync('scancel', [`--name=${name}`], { stdio: 'ignore' });
    } catch (e) {
      out(`scancel --name=${name}: ${(e as Error).message}`);
    }
  }
}

/** Waits until the bridge tracks none of this run's jobs as unfinished; returns how many still are. */
async function waitUntilEnded(
  tokens: string[],
  since: string,
  limitMs: number
): Promise<number> {
  const deadline = Date.now() + limitMs;
  let unfinished = 0;
  do {
    unfinished = 0;
    for (const token of tokens) {
      for (const state of ['SUBMITTED', 'PENDING', 'RUNNING', 'COMPLETING']) {
        const res = await fetch(
          `${BRIDGE_URL}/api/v1/jobs?state=${state}&since=${encodeURIComponent(since)}`,
          { headers: { Authorization: `token ${token}` } }
        );
        if (res.status !== 200) {
          unfinished += 1;
          continue;
        }
        const body = (await res.json()) as { jobs: { name: string }[] };
        unfinished += body.jobs.filter(j => j.name === RUN_NAME).length;
      }
    }
    if (unfinished > 0) {
      await sleep(2000);
    }
  } while (unfinished > 0 && Date.now() < deadline);
  return unfinished;
}

function usageLine(label: string, u: IUsage): void {
  out(
    `${label}: CPU ${u.cpuPercent.toFixed(1)} % of a core (peak ${u.peakCpuPercent.toFixed(0)} % over 1 s), peak RSS ${(u.peakRss / MIB).toFixed(0)} MiB over ${u.seconds.toFixed(0)} s`
  );
}

async function measureIdle(pid: number, ms: number): Promise<IUsage> {
  const sampler = new UsageSampler(pid, 250);
  await sleep(ms);
  return sampler.stop();
}

async function main(): Promise<void> {
  const { directUrl, pollSeconds } = bridgeConfig();
  const bridgePid = stackPid(STACK_DIR, 'bridge');
  let proxyPid: number | null = null;
  try {
    proxyPid = stackPid(STACK_DIR, 'configurable-http-proxy');
  } catch {
    // no pid file for the proxy: its CPU is not reported
  }
  out(
    `load: ${SUBSCRIBERS} subscribers, ${RATE} submits/s for ${SECONDS} s via the proxy (+${DIRECT_SECONDS} s direct), baseline ${BASELINE_SECONDS} s; run ${RUN_NAME}`
  );
  const tokens = await Promise.all(USERS.map(u => createUserToken(u)));
  const since = new Date().toISOString();
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const streamAgent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const tally = new EventTally(SUBSCRIBERS);
  const streams: ISubscription[] = [];
  try {
    const raw = await rawSbatchPhase();
    scancelRun();

    const idle = await measureIdle(bridgePid, 5000);
    usageLine('bridge idle', idle);

    const connectStart = performance.now();
    const opened = await Promise.allSettled(
      Array.from({ length: SUBSCRIBERS }, (_, i) =>
        subscribe({
          url: `${BRIDGE_URL}/api/v1/events`,
          token: tokens[i % USERS.length],
          user: USERS[i % USERS.length],
          index: i,
          tally,
          agent: streamAgent
        })
      )
    );
    const connectMs = performance.now() - connectStart;
    const refused = new Map<string, number>();
    opened.forEach(r => {
      if (r.status === 'fulfilled') {
        streams.push(r.value);
      } else {
        const why = String((r.reason as Error).message).slice(0, 80);
        refused.set(why, (refused.get(why) ?? 0) + 1);
      }
    });
    out(
      `${streams.length}/${SUBSCRIBERS} streams open in ${connectMs.toFixed(0)} ms; refused: ${JSON.stringify(Object.fromEntries(refused))}`
    );
    const watching = await measureIdle(bridgePid, 5000);
    usageLine(`bridge with ${streams.length} idle streams`, watching);

    const bridgeUsage = new UsageSampler(bridgePid);
    const proxyUsage = proxyPid === null ? null : new UsageSampler(proxyPid);
    const bench = process.cpuUsage();
    const viaProxy = await bridgePhase(
      `POST /api/v1/jobs via the proxy, ${RATE}/s for ${SECONDS} s`,
      BRIDGE_URL,
      SECONDS,
      tokens,
      agent
    );
    // Every job's first poll lands within a tick or two after the submit.
    await sleep(2 * pollSeconds * 1000 + 2000);
    const load = bridgeUsage.stop();
    const proxyLoad = proxyUsage?.stop() ?? null;
    const benchCpu = process.cpuUsage(bench);
    usageLine('bridge under load', load);
    if (proxyLoad) {
      usageLine('proxy under load', proxyLoad);
    }

    const direct =
      DIRECT_SECONDS > 0
        ? await bridgePhase(
            `POST /api/v1/jobs direct to the bridge, ${RATE}/s for ${DIRECT_SECONDS} s`,
            directUrl,
            DIRECT_SECONDS,
            tokens,
            agent
          )
        : null;
    if (direct) {
      await sleep(2 * pollSeconds * 1000 + 2000);
    }

    const accepted = [...viaProxy.jobs, ...(direct?.jobs ?? [])];
    let missing = 0;
    let expected = 0;
    let neverSeen = 0;
    for (const [u, user] of USERS.entries()) {
      const subs = opened.flatMap((r, i) =>
        r.status === 'fulfilled' && i % USERS.length === u ? [i] : []
      );
      const m = tally.missing(
        accepted.filter(j => j.owner === user).map(j => j.id),
        subs
      );
      missing += m.missing;
      expected += m.expected;
      neverSeen += m.neverSeen;
    }
    const lagP50 = quantile(tally.lags, 0.5);
    const lagP99 = quantile(tally.lags, 0.99);
    out(
      `events: ${tally.jobEvents} job events received; missing ${missing} of ${expected} (job, subscriber, state) deliveries, ${neverSeen} (job, subscriber) pairs never seen; ${tally.foreign} of other users' jobs; ${tally.droppedEarly} streams dropped early; lag p50 ${lagP50.toFixed(0)} ms, p99 ${lagP99.toFixed(0)} ms; bench CPU ${((benchCpu.user + benchCpu.system) / 1e4 / load.seconds).toFixed(0)} % of a core`
    );

    const rows = {
      accepted: {
        metric: `submits accepted via the proxy, ${RATE}/s for ${SECONDS} s with ${streams.length} SSE subscribers`,
        value: viaProxy.accepted,
        unit: 'jobs',
        baseline: `raw sbatch accepted over one ssh connection, ${RATE}/s for ${BASELINE_SECONDS} s`,
        baselineValue: raw.accepted,
        ratio:
          viaProxy.accepted /
          viaProxy.attempted /
          (raw.accepted / raw.attempted),
        note: `ratio compares acceptance rates; attempted ${viaProxy.attempted} vs ${raw.attempted}; errors: ${errorsOf(viaProxy)} (raw: ${errorsOf(raw)}); at most ${viaProxy.maxInFlight} submits in flight`
      }
    };
    record({ bench: 'load', ...rows.accepted });
    for (const [q, v, b] of [
      ['p50', viaProxy.p50, raw.p50],
      ['p99', viaProxy.p99, raw.p99]
    ] as const) {
      record({
        bench: 'load',
        metric: `submit latency under load via the proxy, ${q}`,
        value: v,
        unit: 'ms',
        baseline: `raw sbatch over one ssh connection at ${RATE}/s, ${q}`,
        baselineValue: b,
        note: 'lower is better; the bridge also writes the notebook, runner and script over SFTP and records the job'
      });
    }
    if (direct) {
      for (const [q, v, b] of [
        ['p50', viaProxy.p50, direct.p50],
        ['p99', viaProxy.p99, direct.p99]
      ] as const) {
        record({
          bench: 'load',
          metric: `submit latency via the proxy, ${q}`,
          value: v,
          unit: 'ms',
          baseline: `the same submits straight to the bridge port (${DIRECT_SECONDS} s), ${q}`,
          baselineValue: b,
          // The proxy relays to the bridge: it cannot make a submit faster than the bridge
          // answers it directly; these phases run one after the other, not alternated.
          better: 'lower',
          passThrough: true,
          note: `the proxy's share; measured after the proxy phase, with its jobs queued; direct: ${direct.accepted}/${direct.attempted} accepted, errors: ${errorsOf(direct)}`
        });
      }
    }
    record({
      bench: 'load',
      metric: 'job state deliveries missing at subscribers of the owner',
      value: missing,
      unit: 'events',
      baseline:
        'deliveries expected (each state any subscriber of the owner saw, × subscribers)',
      baselineValue: expected,
      note: `lower is better, 0 = none lost; ${neverSeen} (job, subscriber) pairs saw nothing; ${tally.foreign} events of other users' jobs (must be 0); ${tally.droppedEarly} streams dropped early; ${tally.jobEvents} job events in all`
    });
    for (const [q, v, b] of [
      ['p50', lagP50, (pollSeconds * 1000) / 2],
      ['p99', lagP99, pollSeconds * 1000]
    ] as const) {
      record({
        bench: 'load',
        metric: `event delivery lag (job updatedAt → subscriber), ${q}`,
        value: v,
        unit: 'ms',
        baseline: `a client polling every ${pollSeconds} s sees a change after (${q})`,
        baselineValue: b,
        note: 'lower is better; bridge and subscribers on one clock'
      });
    }
    record({
      bench: 'load',
      metric: `bridge CPU under load (${streams.length} streams, ${RATE} submits/s)`,
      value: load.cpuPercent,
      unit: '% of a core',
      baseline: `bridge with ${streams.length} idle streams`,
      baselineValue: watching.cpuPercent,
      note: `lower is better; /proc/PID/stat over ${load.seconds.toFixed(0)} s; busiest second ${load.peakCpuPercent.toFixed(0)} %; idle without streams ${idle.cpuPercent.toFixed(1)} %${proxyLoad ? `; the proxy used ${proxyLoad.cpuPercent.toFixed(0)} %` : ''}; the bench itself ${((benchCpu.user + benchCpu.system) / 1e4 / load.seconds).toFixed(0)} %`
    });
    record({
      bench: 'load',
      metric: 'bridge peak RSS under load',
      value: load.peakRss / MIB,
      unit: 'MiB',
      baseline: 'bridge RSS before the streams opened',
      baselineValue: idle.peakRss / MIB,
      note: `lower is better; with ${streams.length} streams open and idle: ${(watching.peakRss / MIB).toFixed(0)} MiB`
    });
    record({
      bench: 'load',
      metric: 'slurmctld RPCs per accepted submit via the bridge',
      value: viaProxy.rpcs / Math.max(1, viaProxy.accepted),
      unit: 'RPCs',
      baseline: 'raw sbatch, per accepted submit',
      baselineValue: raw.rpcs / Math.max(1, raw.accepted),
      note: "lower is better; all RPCs of the window (the bridge's poller included)"
    });
  } finally {
    for (const s of streams) {
      s.close();
    }
    scancelRun();
    const left = await waitUntilEnded(tokens, since, 120_000);
    out(
      left === 0
        ? `cleaned up: every job of ${RUN_NAME} cancelled and seen ended by the bridge`
        : `cleanup: ${left} jobs of ${RUN_NAME} still unfinished in the bridge after 120 s`
    );
    agent.destroy();
    streamAgent.destroy();
  }
}

main().catch(err => {
  process.stderr.write(`${String((err as Error).stack ?? err)}\n`);
  process.exit(1);
});
