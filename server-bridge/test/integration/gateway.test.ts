/**
 * The OpenAI-compatible gateway on the real stack, through the hub's proxy, with the
 * official `openai` npm client: a real llama-server (local provider) serving the seeded
 * random tiny model. Chat and streaming with a key; no key / wrong key / revoked key →
 * 401; budget spent → 429; rate limit → 429 with Retry-After; usage and metrics; a key
 * of bob's endpoint does not reach alice's private one. Budgets are caps under
 * concurrency; max_tokens, deep JSON and the model server's own errors come back in
 * OpenAI's exact error shape.
 */
import OpenAI, {
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  RateLimitError
} from 'openai';
import { randomBytes } from 'node:crypto';
import {
  EndpointKeyListSchema,
  EndpointMetricsSchema,
  Routes,
  type Endpoint
} from '../../src/contract';
import {
  JSON_HEADERS as json,
  callRetrying as call,
  completionsAtOnce,
  createEndpoint,
  newEndpointKey as newKey,
  tokensUsed as usedOfKey,
  waitReady
} from './endpoint-calls';
import { BRIDGE_URL, bridge, createUserToken, settled } from './stack';

jest.setTimeout(240_000);

const GATEWAY = `${BRIDGE_URL}/v1`;
const suffix = randomBytes(3).toString('hex');
const MESSAGES = [{ role: 'user' as const, content: 'Say something.' }];

let alice: string;
let bob: string;
let aliceEp: Endpoint;
let bobEp: Endpoint;
let aliceKey: string;
const created: { id: string; token: () => string }[] = [];

/** The official client, without its own retries (a 401/429 must be seen as it is). */
const client = (apiKey: string): OpenAI =>
  new OpenAI({ apiKey, baseURL: GATEWAY, maxRetries: 0, timeout: 120_000 });

beforeAll(async () => {
  [alice, bob] = await Promise.all([
    createUserToken('alice'),
    createUserToken('bob')
  ]);
  aliceEp = await createEndpoint(alice, {
    name: `it-gw-${suffix}`,
    model: 'tiny-random',
    provider: 'local',
    resources: { gpus: 0 },
    visibility: 'private'
  });
  created.push({ id: aliceEp.id, token: () => alice });
  bobEp = await createEndpoint(bob, {
    name: `it-gw-bob-${suffix}`,
    model: 'small-random',
    provider: 'local',
    resources: { gpus: 0 },
    visibility: 'private'
  });
  created.push({ id: bobEp.id, token: () => bob });
  aliceEp = await waitReady(aliceEp.id, alice);
  aliceKey = (await newKey(aliceEp.id, alice)).key;
});

afterAll(async () => {
  for (const e of created) {
    await bridge(Routes.endpoint(e.id), e.token(), { method: 'DELETE' });
  }
});

describe('the gateway with the openai client', () => {
  it("lists the endpoint's model and answers a chat completion", async () => {
    expect(aliceEp.url).toBe(GATEWAY);
    const openai = client(aliceKey);
    const models = await openai.models.list();
    // The served model first, then the endpoint's name, which clients may send too.
    expect(models.data.map(m => m.id)).toEqual(['tiny-random', aliceEp.name]);

    const chat = await openai.chat.completions.create({
      model: 'tiny-random',
      messages: MESSAGES,
      max_tokens: 8
    });
    expect(chat.model).toBe('tiny-random');
    expect(typeof chat.choices[0]?.message.content).toBe('string');
    expect(chat.usage?.completion_tokens).toBeGreaterThan(0);
    expect(chat.usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it('streams a chat completion, with the usage chunk only when asked for', async () => {
    const openai = client(aliceKey);
    const plain = await openai.chat.completions.create({
      model: 'tiny-random',
      messages: MESSAGES,
      max_tokens: 8,
      stream: true
    });
    const chunks = [];
    for await (const chunk of plain) {
      chunks.push(chunk);
    }
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every(c => c.usage === undefined || c.usage === null)).toBe(
      true
    );
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toMatch(/^(length|stop)$/);

    const withUsage = await openai.chat.completions.create({
      model: 'tiny-random',
      messages: MESSAGES,
      max_tokens: 8,
      stream: true,
      stream_options: { include_usage: true }
    });
    // No check of the text: the random-weight model often picks only tokens that print
    // nothing, so that llama-server streams no content delta at all.
    let usage: OpenAI.CompletionUsage | null | undefined;
    let chunkCount = 0;
    for await (const chunk of withUsage) {
      chunkCount += 1;
      usage = chunk.usage ?? usage;
    }
    expect(chunkCount).toBeGreaterThan(1);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBeLessThanOrEqual(8);
  });

  it('answers embeddings, one vector per input, with the prompt tokens counted', async () => {
    const { id, key } = await newKey(aliceEp.id, alice, { name: 'embed' });
    const answer = await client(key).embeddings.create({
      model: 'tiny-random',
      input: ['the first text', 'a second one']
    });
    expect(answer.data.map(d => d.index)).toEqual([0, 1]);
    const [first, second] = answer.data.map(d => d.embedding);
    expect(first?.length).toBeGreaterThan(8);
    expect(second).toHaveLength(first?.length ?? -1);
    expect(first).not.toEqual(second);
    expect(answer.usage.prompt_tokens).toBeGreaterThan(0);
    const list = await call(Routes.endpointKeys(aliceEp.id), alice);
    const mine = EndpointKeyListSchema.parse(list.body).keys.find(
      k => k.id === id
    );
    expect(mine?.tokensUsed).toBe(answer.usage.total_tokens);
  });

  it('counts usage per key and shows it in the key list and the endpoint metrics', async () => {
    const { id, key } = await newKey(aliceEp.id, alice, { name: 'counted' });
    const openai = client(key);
    let total = 0;
    for (let i = 0; i < 3; i++) {
      const c = await openai.completions.create({
        model: 'tiny-random',
        prompt: 'abc',
        max_tokens: 4
      });
      total += c.usage?.total_tokens ?? 0;
    }
    const stream = await openai.completions.create({
      model: 'tiny-random',
      prompt: 'abc',
      max_tokens: 4,
      stream: true,
      stream_options: { include_usage: true }
    });
    for await (const chunk of stream) {
      total += chunk.usage?.total_tokens ?? 0;
    }
    expect(total).toBeGreaterThan(4);
    const list = await settled(
      () => call(Routes.endpointKeys(aliceEp.id), alice),
      l =>
        l.status === 200 &&
        EndpointKeyListSchema.parse(l.body).keys.find(k => k.id === id)
          ?.requests === 4
    );
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(key);
    const mine = EndpointKeyListSchema.parse(list.body).keys.find(
      k => k.id === id
    );
    expect(mine?.requests).toBe(4);
    expect(mine?.tokensUsed).toBe(total);

    const metrics = await call(Routes.endpointMetrics(aliceEp.id), alice);
    expect(metrics.status).toBe(200);
    const m = EndpointMetricsSchema.parse(metrics.body);
    expect(m.totals.requests).toBeGreaterThanOrEqual(4);
    expect(
      m.totals.promptTokens + m.totals.completionTokens
    ).toBeGreaterThanOrEqual(total);
    expect(m.points.some(p => p.p50Ms !== null && p.p95Ms !== null)).toBe(true);
  });
});

/** The key's tokens used, from the key list. */
/** A key's tokens used on alice's endpoint. */
const tokensUsed = (keyId: string): Promise<number> =>
  usedOfKey(aliceEp.id, keyId, alice);

/** Checks that `body` is exactly OpenAI's error shape and returns its fields. */
function openAIErrorOf(body: unknown): {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
} {
  expect(Object.keys(body as object)).toEqual(['error']);
  const e = (body as { error: Record<string, unknown> }).error;
  expect(Object.keys(e).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof e.message).toBe('string');
  expect(typeof e.type).toBe('string');
  expect(e.param === null || typeof e.param === 'string').toBe(true);
  expect(e.code === null || typeof e.code === 'string').toBe(true);
  return e as {
    message: string;
    type: string;
    param: string | null;
    code: string | null;
  };
}

describe('gateway caps and input', () => {
  it('keeps twenty concurrent requests of a key within its budget', async () => {
    // Twenty answers of this model use more than this (each about 20 tokens).
    const budget = 250;
    const { id, key } = await newKey(aliceEp.id, alice, {
      name: 'concurrent',
      tokenBudget: budget
    });
    const body = { model: 'tiny-random', messages: MESSAGES, max_tokens: 8 };
    // What one request reserves: its body's bytes (as forwarded) and max_tokens.
    const reservation = Buffer.byteLength(JSON.stringify(body)) + 8;
    const { ok, refused } = await completionsAtOnce(
      20,
      key,
      body,
      () => `${GATEWAY}/chat/completions`
    );
    expect(ok.length + refused.length).toBe(20);
    expect(ok.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(openAIErrorOf(refused[0]?.body).code).toBe('insufficient_quota');
    const used = await tokensUsed(id);
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThanOrEqual(budget + reservation);
    expect(used).toBeLessThanOrEqual(budget);
  });

  it('refuses a non-positive or non-integer max_tokens and one above the model maximum with 400', async () => {
    const openai = client(aliceKey);
    for (const [field, value] of [
      ['max_tokens', -1],
      ['max_tokens', 0],
      ['max_tokens', 2.5],
      ['max_completion_tokens', -1],
      ['max_tokens', 100_000]
    ] as const) {
      const err = await openai.chat.completions
        .create({ model: 'tiny-random', messages: MESSAGES, [field]: value })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BadRequestError);
      expect((err as BadRequestError).param).toBe(field);
    }
  });

  it("refuses JSON nested 10,000 deep with 400, and without a key with 401, in OpenAI's shape", async () => {
    const deep = `{"messages": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const withKey = await fetch(`${GATEWAY}/chat/completions`, {
      method: 'POST',
      headers: { ...json, Authorization: `Bearer ${aliceKey}` },
      body: deep
    });
    expect(withKey.status).toBe(400);
    expect(openAIErrorOf(await withKey.json()).code).toBe('invalid_json');
    const noKey = await fetch(`${GATEWAY}/chat/completions`, {
      method: 'POST',
      headers: json,
      body: deep
    });
    expect(noKey.status).toBe(401);
    expect(openAIErrorOf(await noKey.json()).code).toBe('invalid_api_key');
  });

  it("passes the model server's own error on in OpenAI's exact shape, at no cost", async () => {
    const { id, key } = await newKey(aliceEp.id, alice, { name: 'too-long' });
    // llama-server refuses messages that are no list (with a numeric code, no param).
    const res = await fetch(`${GATEWAY}/chat/completions`, {
      method: 'POST',
      headers: { ...json, Authorization: `Bearer ${key}` },
      body: JSON.stringify({
        model: 'tiny-random',
        messages: 'not a list',
        max_tokens: 4
      })
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    const e = openAIErrorOf(await res.json());
    expect(e.message.length).toBeGreaterThan(0);
    expect(await tokensUsed(id)).toBe(0);
  });
});

describe('gateway auth and limits', () => {
  it('answers 401 without a key, with a wrong key and with a revoked key', async () => {
    const none = await fetch(`${GATEWAY}/chat/completions`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ messages: MESSAGES })
    });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({
      error: { type: 'invalid_request_error', code: 'invalid_api_key' }
    });

    const wrong = client(`hpcb_${randomBytes(32).toString('base64url')}`);
    await expect(wrong.models.list()).rejects.toBeInstanceOf(
      AuthenticationError
    );
    // A hub token is no API key.
    await expect(client(alice).models.list()).rejects.toBeInstanceOf(
      AuthenticationError
    );

    const { id, key } = await newKey(aliceEp.id, alice, { name: 'revoked' });
    const openai = client(key);
    expect((await openai.models.list()).data).toHaveLength(2);
    const revoke = await call(Routes.endpointKey(aliceEp.id, id), alice, {
      method: 'DELETE'
    });
    expect(revoke.status).toBe(200);
    const err = await openai.chat.completions
      .create({ model: 'tiny-random', messages: MESSAGES, max_tokens: 2 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).status).toBe(401);
  });

  it("answers 429 insufficient_quota once the key's token budget no longer holds a request", async () => {
    const budget = 150;
    const { id, key } = await newKey(aliceEp.id, alice, {
      name: 'budget',
      tokenBudget: budget
    });
    const openai = client(key);
    const request = { model: 'tiny-random', messages: MESSAGES, max_tokens: 4 };
    let err: unknown = null;
    let answered = 0;
    for (let i = 0; i < 20 && err === null; i++) {
      err = await openai.chat.completions.create(request).then(
        () => null,
        (e: unknown) => e
      );
      answered += err === null ? 1 : 0;
    }
    expect(answered).toBeGreaterThan(0);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).code).toBe('insufficient_quota');
    expect(await tokensUsed(id)).toBeLessThanOrEqual(budget);
  });

  it("answers 429 rate_limit_exceeded with Retry-After beyond the key's requests per minute", async () => {
    const { key } = await newKey(aliceEp.id, alice, {
      name: 'rate',
      requestsPerMinute: 2
    });
    // Within one calendar minute the third request is refused; five requests cross at
    // most one minute boundary, so one of them is refused whatever the clock says.
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    while (statuses.length < 5 && !statuses.includes(429)) {
      const res = await fetch(`${GATEWAY}/completions`, {
        method: 'POST',
        headers: { ...json, Authorization: `Bearer ${key}` },
        body: JSON.stringify({ prompt: 'a', max_tokens: 1 })
      });
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        expect(await res.json()).toMatchObject({
          error: { code: 'rate_limit_exceeded' }
        });
      } else {
        await res.text();
      }
    }
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses.at(-1)).toBe(429);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
  });

  it("does not let bob reach alice's private endpoint", async () => {
    // No keys of alice's endpoint for bob: it does not exist for him.
    const bobCreate = await call(Routes.endpointKeys(aliceEp.id), bob, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: 'theft' })
    });
    expect(bobCreate.status).toBe(404);
    expect((await call(Routes.endpointKeys(aliceEp.id), bob)).status).toBe(404);
    expect((await call(Routes.endpointMetrics(aliceEp.id), bob)).status).toBe(
      404
    );

    // His own key opens his own endpoint only: alice's model is not there.
    const before = EndpointMetricsSchema.parse(
      (await call(Routes.endpointMetrics(aliceEp.id), alice)).body
    ).totals.requests;
    const bobKey = (await newKey(bobEp.id, bob, { name: 'bob' })).key;
    const openai = client(bobKey);
    expect((await openai.models.list()).data.map(m => m.id)).toEqual([
      'small-random',
      bobEp.name
    ]);
    const err = await openai.chat.completions
      .create({ model: 'tiny-random', messages: MESSAGES, max_tokens: 2 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).code).toBe('model_not_found');
    const after = EndpointMetricsSchema.parse(
      (await call(Routes.endpointMetrics(aliceEp.id), alice)).body
    ).totals.requests;
    expect(after).toBe(before);
  });
});
