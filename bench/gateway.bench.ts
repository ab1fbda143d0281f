/**
 * The OpenAI-compatible gateway against llama-server itself, measured in the same run:
 * a llama-server started here with the catalog recipe's arguments (the baseline) and an
 * endpoint of the same model served by the bridge (`local` provider by default: the same
 * binary on the same host), called through `{hub}/services/hpc-bridge/v1` with an API key.
 *
 *   (a) added latency: sequential 1-token chat completions, p50/p99 per round, through
 *       the hub's proxy (what users call) and on the bridge's own port (the gateway
 *       alone), with the bridge's own time per request from its `x-hpcb-overhead-ms`;
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
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import {
  type CatalogModel,
  type Endpoint,
  type EndpointKeyCreated,
  type ModelCatalog,
  Routes
} from '../server-bridge/src/contract';
import {
  BRIDGE_URL,
  bridge,
  createUserToken
} from '../server-bridge/test/integration/stack';
import { sleep, startLlamaServer } from './llama';
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
const READY_TIMEOUT_MS = 180_000;
const BRIDGE_DIRECT_URL = (
  process.env.BENCH_BRIDGE_DIRECT_URL ??
  'http://127.0.0.1:8765/services/hpc-bridge'
).replace(/\/+$/, '');

/** An OpenAI base URL (`…/v1`) with its bearer key. */
interface ITarget {
  label: string;
  baseUrl: string;
  key: string;
}

const messages = [{ role: 'user', content: 'Say something.' }];

async function chat(
  target: ITarget,
  body: Record<string, unknown>
): Promise<Response> {
  return fetch(`${target.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${target.key}`,
      'Content-Type': 'application/json'
    },
    body: JSON.stringify({ model: MODEL, messages, ...body })
  });
}

/**
 * One non-streaming completion; throws unless 200. Returns the bridge's own time for
 * it (`x-hpcb-overhead-ms`), null from llama-server.
 */
async function complete(
  target: ITarget,
  maxTokens: number
): Promise<number | null> {
  const res = await chat(target, { max_tokens: maxTokens, temperature: 1 });
  const text = await res.text();
  if (res.status !== 200) {
    throw new Error(`${target.label}: ${res.status} ${text.slice(0, 300)}`);
  }
  const overhead = res.headers.get('x-hpcb-overhead-ms');
  return overhead === null ? null : Number(overhead);
}

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

/** An endpoint of MODEL owned by alice, ready, with a fresh key. */
async function startEndpoint(
  token: string,
  catalog: ModelCatalog
): Promise<{ target: ITarget; id: string }> {
  const created = await bridge(Routes.endpoints, token, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      name: `bench-${Date.now()}`,
      model: MODEL,
      provider: PROVIDER
    })
  });
  if (created.status !== 201) {
    throw new Error(
      `create endpoint: ${created.status} ${JSON.stringify(created.body)}`
    );
  }
  const id = (created.body as Endpoint).id;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const got = await bridge(Routes.endpoint(id), token);
    const endpoint = got.body as Endpoint;
    if (got.status === 200 && endpoint.state === 'ready') {
      break;
    }
    if (got.status === 200 && endpoint.state === 'failed') {
      throw new Error(`endpoint failed: ${endpoint.reason ?? '?'}`);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `endpoint not ready after ${READY_TIMEOUT_MS / 1000} s: ${JSON.stringify(got.body)}`
      );
    }
    await sleep(500);
  }
  const key = await bridge(Routes.endpointKeys(id), token, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'bench' })
  });
  if (key.status !== 201) {
    throw new Error(`create key: ${key.status} ${JSON.stringify(key.body)}`);
  }
  return {
    target: {
      label: `gateway (${PROVIDER} replica)`,
      baseUrl: catalog.gatewayUrl.replace(/\/+$/, '') || `${BRIDGE_URL}/v1`,
      key: (key.body as EndpointKeyCreated).key
    },
    id
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
    await complete(target, 1); // connections, the prompt cache
  }
}

/** One round of (a): REQUESTS sequential 1-token completions, their p50 and p99. */
async function latency(target: ITarget): Promise<ILatency> {
  const times: number[] = [];
  const own: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const start = performance.now();
    const overhead = await complete(target, 1);
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
  const res = await chat(target, {
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

/** CLIENTS loops of 8-token completions for `windowMs`: completed requests/s and errors. */
async function throughput(
  target: ITarget,
  windowMs = WINDOW_MS
): Promise<{ rps: number; errors: number }> {
  let done = 0;
  let errors = 0;
  let firstError = '';
  const end = performance.now() + windowMs;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < end) {
        try {
          await complete(target, 8);
          done++;
        } catch (err) {
          errors++;
          firstError ||= String(err);
        }
      }
    })
  );
  const seconds = (performance.now() - start) / 1000;
  if (firstError) {
    process.stdout.write(`  ${target.label}: first error: ${firstError}\n`);
  }
  return { rps: done / seconds, errors };
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
  let endpointId: string | undefined;
  try {
    const viaGateway = await startEndpoint(token, catalog);
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
    await warmUp(viaGateway.target);
    await warmUp(onBridgePort);
    const [directLat, portLat, hubLat] = await alternateRounds(ROUNDS, [
      () => latency(direct.target),
      () => latency(onBridgePort),
      () => latency(viaGateway.target)
    ]);
    for (const p of ['p50', 'p99'] as const) {
      for (const [via, runs, label] of [
        ["on the bridge's own port", portLat, onBridgePort.label],
        ["through the hub's proxy", hubLat, viaGateway.target.label]
      ] as const) {
        const c = compare(
          runs.map(l => l[p]),
          directLat.map(l => l[p])
        );
        report(
          `gateway ${via}: 1-token chat completion, ${p} of ${REQUESTS} sequential requests per round`,
          { baseline: direct.target.label, target: label },
          c,
          'ms'
        );
        recordComparison(
          {
            bench: 'gateway',
            metric: `1-token chat completion, gateway ${via}, ${p}`,
            unit: 'ms',
            baseline: UPSTREAM,
            better: 'lower',
            passThrough: true,
            note: `gateway − direct: ${(c.target.median - c.baseline.median).toFixed(2)} ms (of the medians); each round the ${p} of ${REQUESTS} sequential requests per side; ${setup}`
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

    await throughput(direct.target, WARM_UP_MS);
    await throughput(onBridgePort, WARM_UP_MS);
    await throughput(viaGateway.target, WARM_UP_MS);
    const [directTps, portTps, hubTps] = await alternateRounds(ROUNDS, [
      () => throughput(direct.target),
      () => throughput(onBridgePort),
      () => throughput(viaGateway.target)
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
    if (endpointId !== undefined) {
      await bridge(Routes.endpoint(endpointId), token, { method: 'DELETE' });
    }
  }
}

main().catch(err => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
