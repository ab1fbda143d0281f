/**
 * The gateway's caps and input rules over real HTTP (the bridge app on 127.0.0.1, a
 * fake router, a tiny local model server): token budgets reserved before a request
 * goes and settled after, max_tokens checked and written, the key checked before the
 * body, deep JSON refused, every error in OpenAI's exact shape.
 */
import { once } from 'node:events';
import {
  FakeModelServer,
  liveGateway,
  type IGatewayFixture,
  type ILiveGateway,
  type IUpstreamCall
} from './gateway-fakes';

let f: IGatewayFixture;
let model: FakeModelServer;
let base: string;
let aliceKey: string;

let gateway: ILiveGateway;

beforeEach(async () => {
  gateway = await liveGateway();
  ({ f, model, base, aliceKey } = gateway);
});

afterEach(async () => {
  await gateway.close();
});

async function post(
  path: string,
  body: unknown,
  key: string | null = aliceKey,
  signal?: AbortSignal
): Promise<Response> {
  return fetch(`${base}/${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key === null ? {} : { authorization: `Bearer ${key}` })
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(signal === undefined ? {} : { signal })
  });
}

interface IErrorFields {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** The error of a response, checked to be exactly OpenAI's shape. */
async function openAIError(res: Response): Promise<IErrorFields> {
  const body = (await res.json()) as Record<string, unknown>;
  expect(Object.keys(body)).toEqual(['error']);
  const e = body.error as Record<string, unknown>;
  expect(Object.keys(e).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof e.message).toBe('string');
  expect(typeof e.type).toBe('string');
  expect(e.param === null || typeof e.param === 'string').toBe(true);
  expect(e.code === null || typeof e.code === 'string').toBe(true);
  return e as unknown as IErrorFields;
}

const CHAT = { messages: [{ role: 'user', content: 'hi' }] };

/** Answers with a usage of `prompt` tokens and all of the request's max_tokens. */
function answerWithUsage(prompt: number) {
  return (call: IUpstreamCall): void => {
    const completion = Number(call.body.max_tokens);
    call.res.writeHead(200, { 'content-type': 'application/json' });
    call.res.end(
      JSON.stringify({
        object: 'chat.completion',
        choices: [],
        usage: { prompt_tokens: prompt, completion_tokens: completion }
      })
    );
  };
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) {
    await new Promise(r => setTimeout(r, 5));
  }
  expect(done()).toBe(true);
}

describe('token budgets are caps', () => {
  it('never lets concurrent requests of a key pass its budget', async () => {
    const budget = 200;
    const { key, record } = f.keys.create('ep-alice', 'alice', {
      name: 'capped',
      tokenBudget: budget
    });
    // Held until every request was either refused or reached the model server.
    const held: IUpstreamCall[] = [];
    model.handle = call => {
      held.push(call);
    };
    const body = { ...CHAT, max_tokens: 16 };
    let answered = 0;
    const requests = Array.from({ length: 20 }, () =>
      post('chat/completions', body, key).then(async res => {
        answered += 1;
        return { status: res.status, error: await res.text() };
      })
    );
    await until(() => answered + held.length === 20);
    const reservation =
      Buffer.byteLength(JSON.stringify(held[0]?.body)) + body.max_tokens;
    const fits = Math.floor(budget / reservation);
    expect(fits).toBeGreaterThanOrEqual(1);
    expect(held).toHaveLength(fits);
    expect(f.usage.keyTokens(record.id)).toEqual({
      used: 0,
      reserved: fits * reservation,
      budget
    });
    // The model uses all it may: 20 prompt tokens and every max_token.
    for (const call of held) {
      answerWithUsage(20)(call);
    }
    const results = await Promise.all(requests);
    expect(results.filter(r => r.status === 200)).toHaveLength(fits);
    const refused = results.filter(r => r.status === 429);
    expect(refused).toHaveLength(20 - fits);
    expect(JSON.parse(refused[0]?.error ?? '{}')).toMatchObject({
      error: { type: 'insufficient_quota', code: 'insufficient_quota' }
    });
    const after = f.usage.keyTokens(record.id);
    expect(after).toEqual({ used: fits * (20 + 16), reserved: 0, budget });
    expect(after?.used).toBeLessThanOrEqual(budget);
  });

  it('refuses a request whose reservation does not fit what is left, saying why', async () => {
    const { key } = f.keys.create('ep-alice', 'alice', {
      name: 'capped',
      tokenBudget: 300
    });
    const res = await post(
      'chat/completions',
      { ...CHAT, max_tokens: 400 },
      key
    );
    expect(res.status).toBe(429);
    const e = await openAIError(res);
    expect(e).toMatchObject({
      type: 'insufficient_quota',
      code: 'insufficient_quota',
      param: null
    });
    expect(e.message).toMatch(/may cost up to \d+ tokens.*300 of its 300/);
    expect(model.calls).toHaveLength(0);
  });

  it('charges a request the client aborted before the answer its prompt estimate', async () => {
    let upstreamCall: IUpstreamCall | undefined;
    model.handle = call => {
      upstreamCall = call; // never answered
    };
    const ac = new AbortController();
    const pending = post('chat/completions', CHAT, aliceKey, ac.signal).catch(
      (e: unknown) => e
    );
    await until(() => upstreamCall !== undefined);
    if (upstreamCall === undefined) {
      throw new Error('the model server got no request');
    }
    const closed = once(upstreamCall.res, 'close');
    ac.abort();
    await pending;
    await closed;
    const id = f.keys.list('ep-alice')[0]?.id ?? '';
    await until(() => f.usage.keyTokens(id)?.reserved === 0);
    expect(f.usage.keyTokens(id)).toEqual({
      used: Buffer.byteLength(JSON.stringify(upstreamCall.body)),
      reserved: 0,
      budget: null
    });
  });

  it('charges nothing for an error answer and releases the reservation', async () => {
    model.handle = call => {
      call.res.writeHead(500, { 'content-type': 'text/plain' });
      call.res.end('model crashed');
    };
    const res = await post('chat/completions', CHAT);
    expect(res.status).toBe(500);
    expect(await openAIError(res)).toEqual({
      message: 'model crashed',
      type: 'server_error',
      param: null,
      code: null
    });
    const id = f.keys.list('ep-alice')[0]?.id ?? '';
    expect(f.usage.keyTokens(id)).toEqual({
      used: 0,
      reserved: 0,
      budget: null
    });
  });
});

describe('max_tokens', () => {
  it.each([
    ['max_tokens', -1],
    ['max_tokens', 0],
    ['max_tokens', 1.5],
    ['max_tokens', '10'],
    ['max_completion_tokens', -1],
    ['n_predict', -1],
    ['n', 0]
  ])('refuses %s = %j with 400 naming the field', async (field, value) => {
    const res = await post('chat/completions', { ...CHAT, [field]: value });
    expect(res.status).toBe(400);
    const e = await openAIError(res);
    expect(e).toMatchObject({
      type: 'invalid_request_error',
      param: field,
      code: 'invalid_body'
    });
    expect(e.message).toContain('must be a positive integer');
    expect(model.calls).toHaveLength(0);
  });

  it("refuses more than the model's maximum", async () => {
    const res = await post('completions', { prompt: 'a', max_tokens: 5000 });
    expect(res.status).toBe(400);
    expect(await openAIError(res)).toMatchObject({
      param: 'max_tokens',
      code: 'invalid_value'
    });
    expect(model.calls).toHaveLength(0);
  });

  it('sends the smallest limit asked for under every name the request used', async () => {
    const res = await post('chat/completions', {
      ...CHAT,
      max_tokens: 100,
      n_predict: 40
    });
    expect(res.status).toBe(200);
    expect(model.calls[0]?.body).toMatchObject({
      max_tokens: 40,
      n_predict: 40
    });
    expect(model.calls[0]?.body).not.toHaveProperty('max_completion_tokens');
  });
});

describe('gateway input', () => {
  it('checks the key before the body: an unauthenticated bad body is a 401', async () => {
    const res = await post('chat/completions', '{"messages": [', null);
    expect(res.status).toBe(401);
    expect((await openAIError(res)).code).toBe('invalid_api_key');
  });

  it("refuses JSON nested 10,000 deep with 400 in OpenAI's shape", async () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const res = await post('chat/completions', `{"messages": ${deep}}`);
    expect(res.status).toBe(400);
    expect(await openAIError(res)).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_json'
    });
    // Brackets inside strings are text, not nesting.
    const text = await post('chat/completions', {
      messages: [{ role: 'user', content: '['.repeat(10_000) }]
    });
    expect(text.status).toBe(200);
    expect(model.calls).toHaveLength(1);
  });

  it("passes an error event of a stream on in OpenAI's shape", async () => {
    model.handle = call => {
      call.res.writeHead(200, { 'content-type': 'text/event-stream' });
      call.res.end(
        `data: ${JSON.stringify({ error: { code: 500, message: 'slot failed', type: 'server_error' } })}\n\n`
      );
    };
    const res = await post('chat/completions', { ...CHAT, stream: true });
    const text = await res.text();
    expect(JSON.parse(text.replace(/^data: /, ''))).toEqual({
      error: {
        message: 'slot failed',
        type: 'server_error',
        param: null,
        code: null
      }
    });
  });
});
