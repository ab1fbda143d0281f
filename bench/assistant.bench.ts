/**
 * The editor's inline completion against the model server called directly, in the same
 * run: what the extension's request (`POST {hub}/services/hpc-bridge/api/v1/assistant/
 * complete` with the hub token: the hub's proxy, the bridge's key kept for the user, its
 * budget reservation, the gateway's forward) adds to a `/v1/completions` request with the
 * same body sent to a llama-server started here with the catalog recipe's arguments.
 * Both generate one token (`maxTokens: 1`), so the model's time is the same on both
 * sides; sequential requests, the median per round, rounds alternated.
 *
 * Env: BENCH_ASSISTANT_ROUNDS (default 5), BENCH_ASSISTANT_REQUESTS (per side per round,
 * default 100), BENCH_ASSISTANT_MODEL (default tiny-random).
 */
import { performance } from 'node:perf_hooks';
import { completionBody } from '../server-bridge/src/assistant/prompts';
import { type Endpoint, Routes } from '../server-bridge/src/contract';
import {
  bridge,
  BRIDGE_URL,
  createUserToken
} from '../server-bridge/test/integration/stack';
import { sleep, startLlamaServer } from './llama';
import { recordComparison } from './results';
import { alternate, compare, median, report } from './stats';

const ROUNDS = Number(process.env.BENCH_ASSISTANT_ROUNDS ?? 5);
const REQUESTS = Number(process.env.BENCH_ASSISTANT_REQUESTS ?? 100);
const MODEL = process.env.BENCH_ASSISTANT_MODEL ?? 'tiny-random';
const JSON_HEADERS = { 'Content-Type': 'application/json' };
const INPUT = {
  prefix: 'import numpy as np\n\ndef mean_of(values):\n    return np.',
  suffix: '',
  language: 'python',
  maxTokens: 1
};

async function ok(res: Response, what: string): Promise<void> {
  const text = await res.text();
  if (res.status !== 200) {
    throw new Error(`${what}: ${res.status} ${text.slice(0, 300)}`);
  }
}

async function readyEndpoint(token: string): Promise<string> {
  const created = await bridge(Routes.endpoints, token, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify({
      name: `bench-assistant-${Date.now()}`,
      model: MODEL,
      provider: 'local',
      resources: { gpus: 0 }
    })
  });
  if (created.status !== 201) {
    throw new Error(`create endpoint: ${JSON.stringify(created.body)}`);
  }
  const id = (created.body as Endpoint).id;
  for (let i = 0; i < 360; i++) {
    const ep = (await bridge(Routes.endpoint(id), token)).body as Endpoint;
    if (ep.state === 'ready') {
      return id;
    }
    if (ep.state === 'failed') {
      throw new Error(`endpoint failed: ${ep.reason ?? ''}`);
    }
    await sleep(500);
  }
  throw new Error('endpoint not ready after 3 minutes');
}

/** The median of REQUESTS sequential calls, in ms. */
async function medianOf(call: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const start = performance.now();
    await call();
    times.push(performance.now() - start);
  }
  return median(times);
}

async function main(): Promise<void> {
  const token = await createUserToken('alice');
  const direct = await startLlamaServer(`/opt/hpc-bridge/models/${MODEL}.gguf`);
  const endpointId = await readyEndpoint(token);
  const body = JSON.stringify({ model: MODEL, ...completionBody(INPUT) });
  const viaLlama = () =>
    fetch(`http://127.0.0.1:${direct.port}/v1/completions`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, Authorization: `Bearer ${direct.key}` },
      body
    }).then(res => ok(res, 'llama-server'));
  const viaExtension = () =>
    fetch(`${BRIDGE_URL}${Routes.assistantComplete}`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, Authorization: `token ${token}` },
      body: JSON.stringify({ endpointId, ...INPUT })
    }).then(res => ok(res, 'assistant'));
  try {
    for (let i = 0; i < 10; i++) {
      await viaLlama(); // connections, the prompt cache, the key made on first use
      await viaExtension();
    }
    const runs = await alternate(
      ROUNDS,
      () => medianOf(viaLlama),
      () => medianOf(viaExtension)
    );
    const c = compare(runs.target, runs.baseline);
    report(
      'inline completion: one request, 1 token',
      {
        baseline: 'llama-server /v1/completions, same body',
        target: 'extension → hub proxy → bridge → gateway'
      },
      c,
      'ms'
    );
    recordComparison(
      {
        bench: 'assistant',
        metric: 'inline completion latency (median per round)',
        unit: 'ms',
        baseline: `llama-server started here with the recipe's arguments, /v1/completions with the same body (${MODEL}, 1 token)`,
        better: 'lower',
        passThrough: true,
        note: `the extension's path adds ${(c.target.median - c.baseline.median).toFixed(1)} ms (of the medians): the hub's proxy, the hub token's check, the user's key, the budget reservation, the gateway; ${REQUESTS} sequential requests per side per round`
      },
      c
    );
  } finally {
    direct.child.kill();
    await bridge(Routes.endpoint(endpointId), token, { method: 'DELETE' });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
