/**
 * Endpoint calls shared by the integration suites (endpoints, gateway, courses): create,
 * wait for a state, make a key; all through the hub's proxy as a panel would.
 */
import {
  EndpointKeyCreatedSchema,
  EndpointKeyListSchema,
  EndpointSchema,
  Routes,
  type Endpoint,
  type EndpointKeyCreate
} from '../../src/contract';
import { bridge } from './stack';

export const JSON_HEADERS = { 'Content-Type': 'application/json' };

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** The bridge through the hub; retries the transient 503 of a bridge restart. */
export async function callRetrying(
  path: string,
  token: string,
  init: RequestInit = {}
): Promise<{ status: number; body: unknown }> {
  for (let i = 0; ; i++) {
    const res = await bridge(path, token, init);
    if (res.status !== 503 || i >= 30) {
      return res;
    }
    await sleep(1000);
  }
}

export async function createEndpoint(
  token: string,
  body: Record<string, unknown>
): Promise<Endpoint> {
  const res = await callRetrying(Routes.endpoints, token, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify(body)
  });
  expect(res.status).toBe(201);
  return EndpointSchema.parse(res.body);
}

/**
 * Polls the endpoint until `done` holds; a failed endpoint throws with its reason. Answers
 * other than 200 (a bridge restarting) are polled through.
 */
export async function waitForEndpoint(
  id: string,
  token: string,
  done: (ep: Endpoint) => boolean,
  timeoutMs = 180_000
): Promise<Endpoint> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    const res = await bridge(Routes.endpoint(id), token);
    last = res.body;
    if (res.status === 200) {
      const ep = EndpointSchema.parse(res.body);
      if (done(ep)) {
        return ep;
      }
      if (ep.state === 'failed') {
        throw new Error(`endpoint failed: ${ep.reason ?? ''}`);
      }
    }
    await sleep(1000);
  }
  throw new Error(`timed out; last answer: ${JSON.stringify(last)}`);
}

export const waitReady = (id: string, token: string): Promise<Endpoint> =>
  waitForEndpoint(id, token, ep => ep.state === 'ready');

export async function newEndpointKey(
  id: string,
  token: string,
  body: EndpointKeyCreate = { name: 'it' }
): Promise<{ id: string; key: string }> {
  const res = await callRetrying(Routes.endpointKeys(id), token, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify(body)
  });
  expect(res.status).toBe(201);
  const k = EndpointKeyCreatedSchema.parse(res.body);
  return { id: k.id, key: k.key };
}

/** A key's tokens used, as its endpoint's key list shows them. */
export async function tokensUsed(
  endpointId: string,
  keyId: string,
  token: string
): Promise<number> {
  const list = await callRetrying(Routes.endpointKeys(endpointId), token);
  const k = EndpointKeyListSchema.parse(list.body).keys.find(
    x => x.id === keyId
  );
  if (k === undefined) {
    throw new Error(`no key ${keyId}`);
  }
  return k.tokensUsed;
}

/** A gateway answer: its status and parsed body. */
export interface IAnswer {
  status: number;
  body: unknown;
}

/**
 * `count` chat completions with `key` sent at once, the i-th to `urlOf(i)` (a gateway's
 * `…/chat/completions`); the answers split into served (200) and refused (429).
 */
export async function completionsAtOnce(
  count: number,
  key: string,
  body: unknown,
  urlOf: (i: number) => string
): Promise<{ ok: IAnswer[]; refused: IAnswer[]; all: IAnswer[] }> {
  const all = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const res = await fetch(urlOf(i), {
        method: 'POST',
        headers: { ...JSON_HEADERS, Authorization: `Bearer ${key}` },
        body: JSON.stringify(body)
      });
      return { status: res.status, body: (await res.json()) as unknown };
    })
  );
  return {
    ok: all.filter(r => r.status === 200),
    refused: all.filter(r => r.status === 429),
    all
  };
}
