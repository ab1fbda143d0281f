/**
 * The OpenAI-compatible gateway against llama-server itself, measured in the same run:
 * a llama-server started here with the catalog recipe's arguments (the baseline) and an
 * endpoint of the same model served by the bridge (`local` provider by default: the same
 * binary on the same host), called through `{hub}/services/hpc-bridge/v1` with an API key.
 *
 *   (a) added latency: sequential 1-token chat completions, p50/p99 per round, through
 *       the hub's proxy (what users call) and on the bridge's own port (the gateway
 *       alone), with the bridge's own time per request from its `x-hpcb-overhead-ms`,
 *       and a bare Node pass-through (bench/pass-through.ts) in front of the same
 *       llama-server: what one HTTP hop in Node costs on this machine, the floor;
 *   (b) streaming: tokens/s of `stream: true` completions (usage of the last chunk);
 *   (c) throughput: requests/s of 64 concurrent clients sending short completions.
 *
 * Each part alternates the two round by round (stats.ts: direct first on even rounds, the
 * gateway first on odd ones) and records the median of the rounds with their min–max.
 * The gateway relays to the same llama-server: it cannot be faster, so a row where it is
 * measures noise, and the rendered table says so (`passThrough`).
 *
 * The demo model (tiny-random) writes random text; what is measured is the serving path.
 * Env: BENCH_GATEWAY_MODEL (default tiny-random), BENCH_GATEWAY_PROVIDER (local|slurm),
 * BENCH_GATEWAY_ROUNDS (alternated rounds of each part, default 5; at least 5 makes sense),
 * BENCH_GATEWAY_REQUESTS (sequential requests per side per round of (a), default 200),
 * BENCH_GATEWAY_STREAM_TOKENS (default 256), BENCH_GATEWAY_STREAMS (completions per side
 * per round of (b), default 3), BENCH_GATEWAY_CLIENTS (default 64),
 * BENCH_GATEWAY_WINDOW_MS (per side per round of (c), default 4000),
 * BENCH_GATEWAY_LLAMA_SERVER (the binary), BENCH_BRIDGE_DIRECT_URL (the bridge's own
 * port and base path, default http://127.0.0.1:8765/services/hpc-bridge).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  type CatalogModel,
  type ModelCatalog,
  Routes
} from '../server-bridge/src/contract';
import {
  bridge,
  createUserToken
} from '../server-bridge/test/integration/stack';
import {
  chat,
  complete,
  type ITarget,
  startEndpoint,
  throughput
} from './gateway-client';
import { startLlamaServer } from './llama';
import { recordComparison } from './results';
import {
  alternate,
  alternateRounds,
  compare,
  median,
  percentile,
  report
} from './stats';

const MODEL = process.env.BENCH_GATEWAY_MODEL ?? 'tiny-random';
const PROVIDER = process.env.BENCH_GATEWAY_PROVIDER ?? 'local';
const ROUNDS = Number(process.env.BENCH_GATEWAY_ROUNDS ?? 5);
const REQUESTS = Number(process.env.BENCH_GATEWAY_REQUESTS ?? 200);
const STREAM_TOKENS = Number(process.env.BENCH_GATEWAY_STREAM_TOKENS ?? 256);
const STREAMS = Number(process.env.BENCH_GATEWAY_STREAMS ?? 3);
const CLIENTS = Number(process.env.BENCH_GATEWAY_CLIENTS ?? 64);
const WINDOW_MS = Number(process.env.BENCH_GATEWAY_WINDOW_MS ?? 4000);
/** Before the rounds of (c), each side runs its clients this long, unrecorded. */
const WARM_UP_MS = 1000;
const BRIDGE_DIRECT_URL = (
  process.env.BENCH_BRIDGE_DIRECT_URL ??
  'http://127.0.0.1:8765/services/hpc-bridge'
).replace(/\/+$/, '');

/** The baseline: llama-server with the recipe's arguments, on a free port. */
async function startDirect(
  modelPath: string
): Promise<{ target: ITarget; child: ChildProcess }> {
  const { port, key, child } = await startLlamaServer(modelPath);
  return {
    target: {
      label: 'llama-server direct',
      baseUrl: `http://127.0.0.1:${port}/v1`,
      key
    },
    child
  };
}

/** bench/pass-through.ts in front of the direct llama-server, as a process of its own. */
async function startPassThrough(
  direct: ITarget
): Promise<{ target: ITarget; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(__dirname, 'pass-through.ts'),
      new URL(direct.baseUrl).origin
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] }
  );
  const port = await new Promise<string>((done, fail) => {
    child.stdout?.once('data', (chunk: Buffer) =>
      done(chunk.toString().trim())
    );
    child.once('exit', code => fail(new Error(`pass-through exited: ${code}`)));
  });
  return {
    target: {
      label: 'a bare Node pass-through (undici)',
      baseUrl: `http://127.0.0.1:${port}/v1`,
      key: direct.key
    },
    child
  };
}

interface ILatency {
  p50: number;
  p99: number;
  /** p50 and p99 of the bridge's own time (`x-hpcb-overhead-ms`), 0 when direct. */
  ownP50: number;
  ownP99: number;
}

async function warmUp(target: ITarget): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await complete(target, MODEL, 1); // connections, the prompt cache
  }
}

/** One round of (a): REQUESTS sequential 1-token completions, their p50 and p99. */
async function latency(target: ITarget): Promise<ILatency> {
  const times: number[] = [];
  const own: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const start = performance.now();
    const overhead = await complete(target, MODEL, 1);
    times.push(performance.now() - start);
    own.push(overhead ?? 0);
  }
  return {
    p50: percentile(times, 0.5),
    p99: percentile(times, 0.99),
    ownP50: percentile(own, 0.5),
    ownP99: percentile(own, 0.99)
  };
}

/** Tokens/s of one streamed completion: usage.completion_tokens over the stream's time. */
async function streamOnce(target: ITarget): Promise<number> {
  const start = performance.now();
  const res = await chat(target, MODEL, {
    max_tokens: STREAM_TOKENS,
    stream: true,
    stream_options: { include_usage: true },
    ignore_eos: true,
    temperature: 1
  });
  if (res.status !== 200 || !res.body) {
    throw new Error(
      `${target.label} stream: ${res.status} ${await res.text()}`
    );
  }
  const decoder = new TextDecoder();
  let buffered = '';
  let tokens = 0;
  let chunks = 0;
  for await (const part of res.body) {
    buffered += decoder.decode(part as Uint8Array, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (!line.startsWith('data:')) {
        continue;
      }
      const data = line.slice(5).trim();
      if (data === '[DONE]') {
        continue;
      }
      const event = JSON.parse(data) as {
        choices?: unknown[];
        usage?: { completion_tokens?: number } | null;
      };
      if (event.choices && event.choices.length > 0) {
        chunks++;
      }
      tokens = event.usage?.completion_tokens ?? tokens;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  return (tokens || chunks) / seconds;
}

/** One round of (b): the median tokens/s of STREAMS streamed completions. */
async function streaming(target: ITarget): Promise<number> {
  const rates: number[] = [];
  for (let i = 0; i < STREAMS; i++) {
    rates.push(await streamOnce(target));
  }
  return median(rates);
}

const UPSTREAM = 'the same llama-server called directly';

async function main(): Promise<void> {
  const token = await createUserToken('alice');
  const got = await bridge(Routes.modelCatalog, token);
  if (got.status !== 200) {
    throw new Error(`model catalog: ${got.status} ${JSON.stringify(got.body)}`);
  }
  const catalog = got.body as ModelCatalog & {
    models: (CatalogModel & { path?: string })[];
  };
  if (!catalog.models.some(m => m.name === MODEL)) {
    throw new Error(`the catalog has no model ${MODEL}`);
  }
  // The catalog does not publish cluster paths; the stack installs the models here.
  const modelPath = `/opt/hpc-bridge/models/${MODEL}.gguf`;
  const direct = await startDirect(modelPath);
  const bare = await startPassThrough(direct.target);
  let endpointId: string | undefined;
  try {
    const viaGateway = await startEndpoint({
      token,
      catalog,
      model: MODEL,
      provider: PROVIDER
    });
    endpointId = viaGateway.id;
    const labels = {
      baseline: direct.target.label,
      target: viaGateway.target.label
    };
    const setup = `${MODEL}, ${PROVIDER} provider`;

    const onBridgePort: ITarget = {
      ...viaGateway.target,
      label: "gateway on the bridge's own port",
      baseUrl: `${BRIDGE_DIRECT_URL}/v1`
    };
    await warmUp(direct.target);
    await warmUp(bare.target);
    await warmUp(viaGateway.target);
    await warmUp(onBridgePort);
    const [directLat, bareLat, portLat, hubLat] = await alternateRounds(
      ROUNDS,
      [
        () => latency(direct.target),
        () => latency(bare.target),
        () => latency(onBridgePort),
        () => latency(viaGateway.target)
      ]
    );
    for (const p of ['p50', 'p99'] as const) {
      const floor = median(bareLat.map(l => l[p]));
      for (const [via, runs, label] of [
        ['a bare Node pass-through (undici)', bareLat, bare.target.label],
        ["gateway on the bridge's own port", portLat, onBridgePort.label],
        ["gateway through the hub's proxy", hubLat, viaGateway.target.label]
      ] as const) {
        const c = compare(
          runs.map(l => l[p]),
          directLat.map(l => l[p])
        );
        const beyondFloor =
          runs === bareLat
            ? 'the least one Node HTTP hop costs on this machine (no auth, no accounting)'
            : `beyond the bare pass-through: ${(c.target.median - floor).toFixed(2)} ms`;
        report(
          `${via}: 1-token chat completion, ${p} of ${REQUESTS} sequential requests per round`,
          { baseline: direct.target.label, target: label },
          c,
          'ms'
        );
        recordComparison(
          {
            bench: 'gateway',
            metric: `1-token chat completion, ${via}, ${p}`,
            unit: 'ms',
            baseline: UPSTREAM,
            better: 'lower',
            passThrough: true,
            note: `added: ${(c.target.median - c.baseline.median).toFixed(2)} ms (of the medians), ${beyondFloor}; each round the ${p} of ${REQUESTS} sequential requests per side; ${setup}`
          },
          c
        );
      }
      // p50: the bridge's own share of what the gateway adds; p99: of its whole latency
      // (at p99 the difference of two noisy tails can be zero or negative).
      const ownKey = p === 'p50' ? 'ownP50' : 'ownP99';
      const against =
        p === 'p50'
          ? {
              values: portLat.map((l, i) =>
                Math.max(l.p50 - directLat[i].p50, 0.001)
              ),
              label: 'gateway on its port − direct',
              row: 'latency added by the gateway on its own port (gateway − direct, p50)'
            }
          : {
              values: portLat.map(l => l.p99),
              label: 'gateway on its port, p99',
              row: 'the p99 latency of the gateway on its own port'
            };
      const own = compare(
        portLat.map(l => l[ownKey]),
        against.values
      );
      report(
        `gateway: the bridge's own time per request (x-hpcb-overhead-ms), ${p}`,
        { baseline: against.label, target: 'x-hpcb-overhead-ms' },
        own,
        'ms'
      );
      recordComparison(
        {
          bench: 'gateway',
          metric: `the bridge's own time per request (x-hpcb-overhead-ms), ${p}`,
          unit: 'ms',
          baseline: against.row,
          better: 'lower',
          note: `what the gateway reports on each answer: its time less the wait for llama-server; the rest of the added latency is the second HTTP hop (connections, parsing) of both sides; ${setup}`
        },
        own
      );
    }

    await streamOnce(direct.target);
    await streamOnce(viaGateway.target);
    const rates = await alternate(
      ROUNDS,
      () => streaming(direct.target),
      () => streaming(viaGateway.target)
    );
    const streamed = compare(rates.target, rates.baseline);
    report(
      `gateway: streamed completion of ${STREAM_TOKENS} tokens, median of ${STREAMS} per side per round`,
      labels,
      streamed,
      'tokens/s'
    );
    recordComparison(
      {
        bench: 'gateway',
        metric: `streamed completion of ${STREAM_TOKENS} tokens`,
        unit: 'tokens/s',
        baseline: UPSTREAM,
        better: 'higher',
        passThrough: true,
        note: `each round the median of ${STREAMS} completions per side; a random-weight model: the serving path is measured, not the model`
      },
      streamed
    );

    const completions = (target: ITarget, windowMs = WINDOW_MS) =>
      throughput(target.label, CLIENTS, windowMs, () =>
        complete(target, MODEL, 8)
      );
    await completions(direct.target, WARM_UP_MS);
    await completions(onBridgePort, WARM_UP_MS);
    await completions(viaGateway.target, WARM_UP_MS);
    const [directTps, portTps, hubTps] = await alternateRounds(ROUNDS, [
      () => completions(direct.target),
      () => completions(onBridgePort),
      () => completions(viaGateway.target)
    ]);
    const errors = (runs: { errors: number }[]) =>
      runs.reduce((sum, r) => sum + r.errors, 0);
    for (const [via, runs, label] of [
      ["on the bridge's own port", portTps, onBridgePort.label],
      ["through the hub's proxy", hubTps, viaGateway.target.label]
    ] as const) {
      const served = compare(
        runs.map(t => t.rps),
        directTps.map(t => t.rps)
      );
      report(
        `gateway ${via}: ${CLIENTS} concurrent clients, 8-token completions, ${WINDOW_MS / 1000} s per side per round`,
        { baseline: direct.target.label, target: label },
        served,
        'req/s'
      );
      recordComparison(
        {
          bench: 'gateway',
          metric: `${CLIENTS} concurrent clients, 8-token completions, gateway ${via}`,
          unit: 'req/s',
          baseline: UPSTREAM,
          better: 'higher',
          passThrough: true,
          note: `${WINDOW_MS / 1000} s per side per round; errors: ${errors(runs)} via the gateway, ${errors(directTps)} direct`
        },
        served
      );
    }
  } finally {
    direct.child.kill();
    bare.child.kill();
    if (endpointId !== undefined) {
      await bridge(Routes.endpoint(endpointId), token, { method: 'DELETE' });
    }
  }
}

main().catch(err => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
