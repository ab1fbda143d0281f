/**
 * The gateway over real HTTP: the bridge app listening on 127.0.0.1, a fake router and
 * a tiny local model server. Auth, limits, pass-through (streaming and not), usage,
 * the documented retry, client aborts.
 */
import { once } from 'node:events';
import { DomainError } from '../../src/domain-error';
import type { IUpstream } from '../../src/endpoints/ports';
import {
  deadUpstream,
  FakeModelServer,
  liveGateway,
  type IGatewayFixture,
  type ILiveGateway,
  type IUpstreamCall
} from './gateway-fakes';

let f: IGatewayFixture;
let model: FakeModelServer;
let live: IUpstream;
let base: string;
let aliceKey: string;

let gateway: ILiveGateway;

beforeEach(async () => {
  gateway = await liveGateway();
  ({ f, model, live, base, aliceKey } = gateway);
});

afterEach(async () => {
  await gateway.close();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

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
      ...(key === null ? {} : bearer(key))
    },
    body: JSON.stringify(body),
    ...(signal === undefined ? {} : { signal })
  });
}

interface IOpenAIError {
  error: { message: string; type: string; code: string | null };
}

async function openAIError(res: Response): Promise<IOpenAIError['error']> {
  const body = (await res.json()) as IOpenAIError;
  expect(Object.keys(body.error).sort()).toEqual([
    'code',
    'message',
    'param',
    'type'
  ]);
  return body.error;
}

const CHAT = { messages: [{ role: 'user', content: 'hi' }] };

/** An SSE event of a chat chunk. */
const sse = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;
const delta = (content: string) => ({
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta: { content }, finish_reason: null }]
});
const USAGE_CHUNK = {
  object: 'chat.completion.chunk',
  choices: [],
  usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 }
};

/** Reads a fetch body event by event. */
class EventReader {
  private buffer = '';
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  constructor(res: Response) {
    if (res.body === null) {
      throw new Error('no body');
    }
    this.reader = res.body.getReader();
  }
  /** The next complete event, or null at the end. */
  async next(): Promise<string | null> {
    for (;;) {
      const i = this.buffer.indexOf('\n\n');
      if (i >= 0) {
        const event = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 2);
        return event;
      }
      const { done, value } = await this.reader.read();
      if (done) {
        return null;
      }
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }
  async rest(): Promise<string[]> {
    const out: string[] = [];
    for (let e = await this.next(); e !== null; e = await this.next()) {
      out.push(e);
    }
    return out;
  }
}

describe('gateway auth and checks', () => {
  it("lists the key's model and answers 401 in OpenAI's shape without a valid key", async () => {
    const ok = await fetch(`${base}/models`, { headers: bearer(aliceKey) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({
      object: 'list',
      data: [
        { id: 'tiny-random', object: 'model', created: 0, owned_by: 'alice' }
      ]
    });

    const none = await post('chat/completions', CHAT, null);
    expect(none.status).toBe(401);
    expect(await openAIError(none)).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_api_key'
    });
    const wrong = await post(
      'chat/completions',
      CHAT,
      `hpcb_${'A'.repeat(43)}`
    );
    expect(wrong.status).toBe(401);
    expect((await openAIError(wrong)).code).toBe('invalid_api_key');
    const hubToken = await fetch(`${base}/models`, {
      headers: { authorization: 'token gw-alice' }
    });
    expect(hubToken.status).toBe(401);

    const [k] = f.keys.list('ep-alice');
    f.keys.revoke('ep-alice', k?.id ?? '');
    const revoked = await post('chat/completions', CHAT);
    expect(revoked.status).toBe(401);
    expect(model.calls).toHaveLength(0);
  });

  it('answers 404 model_not_found for another model and OpenAI-shaped errors for bad requests', async () => {
    const other = await post('chat/completions', {
      ...CHAT,
      model: 'small-random'
    });
    expect(other.status).toBe(404);
    expect((await openAIError(other)).code).toBe('model_not_found');

    const bad = await post('chat/completions', { ...CHAT, stream: 'yes' });
    expect(bad.status).toBe(400);
    expect((await openAIError(bad)).type).toBe('invalid_request_error');

    const big = await post('chat/completions', {
      messages: [{ role: 'user', content: 'x'.repeat(5 * 1024 * 1024) }]
    });
    expect(big.status).toBe(413);
    expect((await openAIError(big)).code).toBe('request_too_large');

    const unknown = await fetch(`${base}/audio/speech`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect((await openAIError(unknown)).code).toBe('unknown_url');
    expect(model.calls).toHaveLength(0);
  });

  it("passes the router's 503 on in OpenAI's shape", async () => {
    f.router.answers = [
      new DomainError(
        'upstream_unavailable',
        'The endpoint did not wake within 120 s'
      )
    ];
    const res = await post('chat/completions', CHAT);
    expect(res.status).toBe(503);
    expect(await openAIError(res)).toMatchObject({
      type: 'server_error',
      code: 'endpoint_unavailable',
      message: 'The endpoint did not wake within 120 s'
    });
  });
});

describe('gateway pass-through', () => {
  it("sends a non-streaming request with the replica's key and counts its usage", async () => {
    const res = await post('chat/completions', CHAT);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: unknown[] };
    expect(body.choices).toHaveLength(1);
    const [call] = model.calls;
    expect(call?.url).toBe('/v1/chat/completions');
    expect(call?.headers.authorization).toBe('Bearer upstream-secret');
    // The model's default max_tokens is written when the request sets none.
    expect(call?.body).toEqual({
      ...CHAT,
      model: 'tiny-random',
      max_tokens: 512
    });
    expect(f.router.touches).toEqual(['ep-alice']);
    expect(f.usage.metrics('ep-alice', 1).totals).toEqual({
      requests: 1,
      errors: 0,
      promptTokens: 7,
      completionTokens: 5
    });
  });

  it('passes completions and embeddings, and model errors with their status', async () => {
    model.handle = call => {
      if (call.url === '/v1/embeddings') {
        call.res.writeHead(200, { 'content-type': 'application/json' });
        call.res.end(
          JSON.stringify({
            object: 'list',
            data: [{ object: 'embedding', index: 0, embedding: [0.1] }],
            usage: { prompt_tokens: 4, total_tokens: 4 }
          })
        );
        return;
      }
      call.res.writeHead(400, { 'content-type': 'application/json' });
      call.res.end(
        JSON.stringify({
          error: {
            message: 'prompt too long',
            type: 'invalid_request_error',
            code: 400
          }
        })
      );
    };
    const emb = await post('embeddings', {
      input: 'abc',
      model: 'tiny-random'
    });
    expect(emb.status).toBe(200);
    const comp = await post('completions', { prompt: 'abc' });
    expect(comp.status).toBe(400);
    // llama-server's numeric code is no OpenAI code: the error comes in OpenAI's shape.
    expect(await comp.json()).toEqual({
      error: {
        message: 'prompt too long',
        type: 'invalid_request_error',
        param: null,
        code: null
      }
    });
    expect(model.calls.map(c => c.url)).toEqual([
      '/v1/embeddings',
      '/v1/completions'
    ]);
    expect(f.usage.metrics('ep-alice', 1).totals).toEqual({
      requests: 2,
      errors: 1,
      promptTokens: 4,
      completionTokens: 0
    });
  });

  it('streams each event as it arrives, asks for usage upstream and drops the usage chunk the client did not ask for', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>(r => {
      release = r;
    });
    model.handle = async call => {
      call.res.writeHead(200, { 'content-type': 'text/event-stream' });
      call.res.write(sse(delta('one')));
      await released; // the client must have read "one" before anything else is sent
      call.res.write(sse(delta('two')));
      call.res.write(sse(USAGE_CHUNK));
      call.res.end('data: [DONE]\n\n');
    };
    const res = await post('chat/completions', { ...CHAT, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = new EventReader(res);
    expect(await events.next()).toBe(`data: ${JSON.stringify(delta('one'))}`);
    release();
    expect(await events.rest()).toEqual([
      `data: ${JSON.stringify(delta('two'))}`,
      'data: [DONE]'
    ]);
    expect(model.calls[0]?.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      model: 'tiny-random'
    });
    expect(f.usage.metrics('ep-alice', 1).totals).toEqual({
      requests: 1,
      errors: 0,
      promptTokens: 9,
      completionTokens: 3
    });
  });

  it('keeps the usage chunk when the client asked for it, and strips usage from a final choice chunk otherwise', async () => {
    const finalWithUsage = {
      ...delta('end'),
      usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 }
    };
    model.handle = call => {
      call.res.writeHead(200, { 'content-type': 'text/event-stream' });
      call.res.write(sse(delta('a')));
      // one event split across writes
      const usageEvent = sse(
        call.body.stream_options !== undefined &&
          (call.body.messages as unknown[]).length === 2
          ? finalWithUsage
          : USAGE_CHUNK
      );
      call.res.write(usageEvent.slice(0, 10));
      call.res.write(usageEvent.slice(10));
      call.res.end('data: [DONE]\n\n');
    };
    const asked = await post('chat/completions', {
      ...CHAT,
      stream: true,
      stream_options: { include_usage: true }
    });
    expect(await new EventReader(asked).rest()).toEqual([
      `data: ${JSON.stringify(delta('a'))}`,
      `data: ${JSON.stringify(USAGE_CHUNK)}`,
      'data: [DONE]'
    ]);
    const twoMessages = {
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'user', content: 'again' }
      ]
    };
    const notAsked = await post('chat/completions', {
      ...twoMessages,
      stream: true
    });
    expect(await new EventReader(notAsked).rest()).toEqual([
      `data: ${JSON.stringify(delta('a'))}`,
      `data: ${JSON.stringify(delta('end'))}`,
      'data: [DONE]'
    ]);
    expect(f.usage.metrics('ep-alice', 1).totals).toMatchObject({
      requests: 2,
      promptTokens: 11,
      completionTokens: 4
    });
  });
  it("shows the endpoint's model name where the model server answers with its file path", async () => {
    const PATH_MODEL = { model: '/opt/models/tiny-random.gguf' };
    model.handle = call => {
      if (call.body.stream === true) {
        call.res.writeHead(200, { 'content-type': 'text/event-stream' });
        call.res.write(sse({ ...delta('a'), ...PATH_MODEL }));
        call.res.write(sse({ ...USAGE_CHUNK, ...PATH_MODEL }));
        call.res.end('data: [DONE]\n\n');
        return;
      }
      call.res.writeHead(200, { 'content-type': 'application/json' });
      call.res.end(
        JSON.stringify({ object: 'chat.completion', ...PATH_MODEL })
      );
    };
    const plain = await post('chat/completions', CHAT);
    expect(await plain.json()).toEqual({
      object: 'chat.completion',
      model: 'tiny-random'
    });
    const streamed = await post('chat/completions', {
      ...CHAT,
      stream: true,
      stream_options: { include_usage: true }
    });
    expect(await new EventReader(streamed).rest()).toEqual([
      `data: ${JSON.stringify({ ...delta('a'), model: 'tiny-random' })}`,
      `data: ${JSON.stringify({ ...USAGE_CHUNK, model: 'tiny-random' })}`,
      'data: [DONE]'
    ]);
    // The plain answer reports no usage: it costs its reservation (max_tokens 512).
    expect(f.usage.metrics('ep-alice', 1).totals.completionTokens).toBe(
      512 + 3
    );
  });
});

describe('gateway limits', () => {
  it("answers 429 insufficient_quota once the key's tokens reach its budget", async () => {
    const { key } = f.keys.create('ep-alice', 'alice', {
      name: 'small',
      tokenBudget: 100
    });
    model.handle = call => {
      call.res.writeHead(200, { 'content-type': 'application/json' });
      call.res.end(
        JSON.stringify({
          object: 'chat.completion',
          choices: [],
          usage: { prompt_tokens: 92, completion_tokens: 8 }
        })
      );
    };
    const small = { ...CHAT, max_tokens: 8 };
    expect((await post('chat/completions', small, key)).status).toBe(200);
    const spent = await post('chat/completions', small, key);
    expect(spent.status).toBe(429);
    expect(await openAIError(spent)).toMatchObject({
      type: 'insufficient_quota',
      code: 'insufficient_quota',
      message: expect.stringContaining('used its token budget (100 of 100')
    });
    expect(model.calls).toHaveLength(1);
    // Another key of the endpoint is not affected.
    expect((await post('chat/completions', CHAT)).status).toBe(200);
  });

  it("answers 429 rate_limit_exceeded with Retry-After beyond the key's requests per minute", async () => {
    const { key } = f.keys.create('ep-alice', 'alice', {
      name: 'slow',
      requestsPerMinute: 2
    });
    f.clock.t += 20_000;
    expect((await post('chat/completions', CHAT, key)).status).toBe(200);
    expect((await post('chat/completions', CHAT, key)).status).toBe(200);
    const limited = await post('chat/completions', CHAT, key);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('40');
    expect((await openAIError(limited)).code).toBe('rate_limit_exceeded');
    f.clock.t += 40_000;
    expect((await post('chat/completions', CHAT, key)).status).toBe(200);
  });

  it('does not let a key of one endpoint reach another', async () => {
    const bobKey = f.keys.create('ep-bob', 'bob', { name: 'bob' }).key;
    const res = await post(
      'chat/completions',
      { ...CHAT, model: 'tiny-random' },
      bobKey
    );
    expect(res.status).toBe(404);
    expect((await openAIError(res)).code).toBe('model_not_found');
    const models = await fetch(`${base}/models`, { headers: bearer(bobKey) });
    expect(
      ((await models.json()) as { data: { id: string }[] }).data[0]?.id
    ).toBe('small-random');
    expect(model.calls).toHaveLength(0);
  });
});

describe('gateway retry and abort', () => {
  it('retries once on a fresh upstream when the connection fails before any byte, and reports the replica', async () => {
    f.router.answers = [await deadUpstream('r-dead'), live];
    const res = await post('chat/completions', CHAT);
    expect(res.status).toBe(200);
    expect(f.router.upstreamCalls).toBe(2);
    expect(f.router.failures).toEqual([
      expect.objectContaining({ endpointId: 'ep-alice', replicaId: 'r-dead' })
    ]);
    expect(model.calls).toHaveLength(1);
  });

  it('sends again on a new connection when a kept-alive one was closed, without reporting the replica', async () => {
    const perSocket = new Map<unknown, number>();
    const answer = model.handle;
    model.handle = call => {
      const n = (perSocket.get(call.req.socket) ?? 0) + 1;
      perSocket.set(call.req.socket, n);
      if (n > 1) {
        call.req.socket.destroy(); // the replica closed the idle connection
        return;
      }
      return answer(call);
    };
    expect((await post('chat/completions', CHAT)).status).toBe(200);
    expect((await post('chat/completions', CHAT)).status).toBe(200);
    expect(model.calls).toHaveLength(3);
    expect(perSocket.size).toBe(2);
    expect(f.router.failures).toEqual([]);
    expect(f.router.upstreamCalls).toBe(2);
  });

  it("gives up after the one retry with 502 in OpenAI's shape", async () => {
    f.router.answers = [await deadUpstream('r1'), await deadUpstream('r2')];
    const res = await post('chat/completions', CHAT);
    expect(res.status).toBe(502);
    expect(await openAIError(res)).toMatchObject({
      type: 'server_error',
      code: 'upstream_unreachable'
    });
    expect(f.router.failures.map(x => x.replicaId)).toEqual(['r1', 'r2']);
    expect(f.usage.metrics('ep-alice', 1).totals).toMatchObject({
      requests: 1,
      errors: 1
    });
  });

  it("reports a replica that refuses the gateway's key and answers 502", async () => {
    model.handle = call => {
      call.res.writeHead(401, { 'content-type': 'application/json' });
      call.res.end('{"error":{"message":"Invalid API Key"}}');
    };
    const res = await post('chat/completions', CHAT);
    expect(res.status).toBe(502);
    expect(f.router.failures).toHaveLength(1);
  });

  it('aborts the upstream request when the client goes away mid-stream', async () => {
    let upstreamCall: IUpstreamCall | undefined;
    model.handle = call => {
      upstreamCall = call;
      call.res.writeHead(200, { 'content-type': 'text/event-stream' });
      call.res.write(sse(delta('first')));
      // …and never more: only the client's abort ends this request.
    };
    const ac = new AbortController();
    const res = await post(
      'chat/completions',
      { ...CHAT, stream: true },
      aliceKey,
      ac.signal
    );
    const events = new EventReader(res);
    expect(await events.next()).toBe(`data: ${JSON.stringify(delta('first'))}`);
    if (upstreamCall === undefined) {
      throw new Error('the model server got no request');
    }
    const closed = once(upstreamCall.res, 'close');
    ac.abort();
    await closed;
    expect(upstreamCall.res.writableFinished).toBe(false);
    // Recorded as an error that costs the prompt estimate (the body's bytes) and the
    // chunks streamed as completion tokens.
    await new Promise(r => setImmediate(r));
    const prompt = Buffer.byteLength(JSON.stringify(upstreamCall.body));
    expect(f.usage.metrics('ep-alice', 1).totals).toEqual({
      requests: 1,
      errors: 1,
      promptTokens: prompt,
      completionTokens: 1
    });
    expect(f.usage.keyTokens(f.keys.list('ep-alice')[0]?.id ?? '')).toEqual({
      used: prompt + 1,
      reserved: 0,
      budget: null
    });
  });

  it('aborts while waiting for a replica when the client goes away', async () => {
    let waiting: AbortSignal | undefined;
    f.router.upstream = (_id, signal) => {
      waiting = signal;
      return new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(new Error('aborted')))
      );
    };
    const ac = new AbortController();
    const pending = post('chat/completions', CHAT, aliceKey, ac.signal).catch(
      (e: unknown) => e
    );
    while (waiting === undefined) {
      await new Promise(r => setTimeout(r, 5));
    }
    ac.abort();
    expect(await pending).toMatchObject({ name: 'AbortError' });
    while (!waiting.aborted) {
      await new Promise(r => setTimeout(r, 5));
    }
    expect(waiting.aborted).toBe(true);
  });
});
