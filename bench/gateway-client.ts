/**
 * An OpenAI-compatible client as the gateway benchmarks use it: a base URL with its key,
 * single completions, an endpoint of the bridge made ready with a fresh key, and many
 * concurrent clients repeating one request for a while.
 */
import { performance } from 'node:perf_hooks';
import {
  type Endpoint,
  type EndpointKeyCreated,
  type ModelCatalog,
  Routes
} from '../server-bridge/src/contract';
import { BRIDGE_URL, bridge } from '../server-bridge/test/integration/stack';
import { sleep } from './llama';

/** An OpenAI base URL (`…/v1`) with its bearer key. */
export interface ITarget {
  label: string;
  baseUrl: string;
  key: string;
}

const messages = [{ role: 'user', content: 'Say something.' }];

export async function chat(
  target: ITarget,
  model: string,
  body: Record<string, unknown>
): Promise<Response> {
  return fetch(`${target.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${target.key}`,
      'Content-Type': 'application/json'
    },
    body: JSON.stringify({ model, messages, ...body })
  });
}

/**
 * One non-streaming completion; throws unless 200. Returns the bridge's own time for
 * it (`x-hpcb-overhead-ms`), null from llama-server.
 */
export async function complete(
  target: ITarget,
  model: string,
  maxTokens: number
): Promise<number | null> {
  const res = await chat(target, model, {
    max_tokens: maxTokens,
    temperature: 1
  });
  const text = await res.text();
  if (res.status !== 200) {
    throw new Error(`${target.label}: ${res.status} ${text.slice(0, 300)}`);
  }
  const overhead = res.headers.get('x-hpcb-overhead-ms');
  return overhead === null ? null : Number(overhead);
}

/** `GET /v1/models` with the key: the gateway's own work, no model server involved. */
export async function listModels(target: ITarget): Promise<void> {
  const res = await fetch(`${target.baseUrl}/models`, {
    headers: { Authorization: `Bearer ${target.key}` }
  });
  const text = await res.text();
  if (res.status !== 200) {
    throw new Error(`${target.label}: ${res.status} ${text.slice(0, 300)}`);
  }
}

const READY_TIMEOUT_MS = 180_000;

/** A new endpoint of `model` owned by the token's user, ready, with a fresh key. */
export async function startEndpoint(options: {
  token: string;
  catalog: ModelCatalog;
  model: string;
  provider: string;
}): Promise<{ target: ITarget; id: string }> {
  const { token, catalog, model, provider } = options;
  const created = await bridge(Routes.endpoints, token, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: `bench-${Date.now()}`, model, provider })
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
      label: `gateway (${provider} replica)`,
      baseUrl: catalog.gatewayUrl.replace(/\/+$/, '') || `${BRIDGE_URL}/v1`,
      key: (key.body as EndpointKeyCreated).key
    },
    id
  };
}

/** `clients` loops of `request` for `windowMs`: completed requests/s and errors. */
export async function throughput(
  label: string,
  clients: number,
  windowMs: number,
  request: () => Promise<unknown>
): Promise<{ rps: number; errors: number }> {
  let done = 0;
  let errors = 0;
  let firstError = '';
  const end = performance.now() + windowMs;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        try {
          await request();
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
    process.stdout.write(`  ${label}: first error: ${firstError}\n`);
  }
  return { rps: done / seconds, errors };
}
