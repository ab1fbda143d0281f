/**
 * Inline completion and chat of the assistant: the completion request the bridge builds,
 * conversations kept per user (404 to others on every route), a streamed answer passed on
 * as it arrives and kept before its [DONE], and the partial answer kept when the client
 * leaves.
 */
import { once } from 'node:events';
import type { Conversation, CourseUsage } from '../../src/contract';
import {
  assistantFixture,
  call,
  completionAnswer,
  delta,
  shareCourse,
  sse,
  usageChunk,
  type IAssistantFixture
} from './assistant-fakes';
import type { IUpstreamCall } from './gateway-fakes';

let f: IAssistantFixture;

beforeEach(async () => {
  f = await assistantFixture();
});

afterEach(async () => {
  await f.close();
});

const CONVERSATIONS = '/api/v1/assistant/conversations';

async function newConversation(
  endpointId: string,
  who: 'alice' | 'bob' = 'alice'
): Promise<Conversation> {
  const res = await call(f, who, 'POST', CONVERSATIONS, { endpointId });
  expect(res.status).toBe(201);
  return (await res.json()) as Conversation;
}

async function conversation(id: string): Promise<Conversation> {
  const res = await call(f, 'alice', 'GET', `${CONVERSATIONS}/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Conversation;
}

/** The model streams these deltas, then usage, then [DONE]. */
function streams(deltas: string[], prompt = 30, completion = 3): void {
  f.model.handle = c => {
    c.res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const d of deltas) {
      c.res.write(sse(delta(d)));
    }
    c.res.write(sse(usageChunk(prompt, completion)));
    c.res.end('data: [DONE]\n\n');
  };
}

describe('inline completion', () => {
  it('builds the completion request: prefix end, language hint, capped max_tokens', async () => {
    f.model.handle = c => {
      c.res.writeHead(200, { 'content-type': 'application/json' });
      c.res.end(JSON.stringify(completionAnswer('print(x)')));
    };
    const prefix = `${'a'.repeat(10_000)}\nimport numpy as np\n`;
    const res = await call(f, 'alice', 'POST', '/api/v1/assistant/complete', {
      endpointId: f.own.id,
      prefix,
      suffix: '\nprint(1)',
      language: 'python',
      maxTokens: 500
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      model: 'tiny-random',
      choices: [{ text: 'print(x)' }]
    });
    const sent = f.model.calls[0];
    expect(sent?.url).toBe('/v1/completions');
    expect(sent?.headers.authorization).toBe('Bearer upstream-secret');
    const body = sent?.body ?? {};
    expect(body).toMatchObject({
      model: 'tiny-random',
      suffix: '\nprint(1)',
      max_tokens: 64,
      temperature: 0.2,
      stop: ['\n\n\n'],
      stream: false
    });
    expect(body.prompt).toBe(`# Language: python\n${prefix.slice(-8000)}`);

    const small = await call(f, 'alice', 'POST', '/api/v1/assistant/complete', {
      endpointId: f.own.id,
      prefix: 'x = ',
      maxTokens: 8
    });
    expect(small.status).toBe(200);
    expect(f.model.calls[1]?.body).toMatchObject({
      prompt: 'x = ',
      max_tokens: 8
    });
  });

  it("answers bad input in the bridge's shape, model errors in OpenAI's", async () => {
    const bad = await call(f, 'alice', 'POST', '/api/v1/assistant/complete', {
      endpointId: f.own.id
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe(
      'bad_request'
    );
    f.router.answers = [];
    const down = await call(f, 'alice', 'POST', '/api/v1/assistant/complete', {
      endpointId: f.own.id,
      prefix: 'x'
    });
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({
      error: { type: 'server_error', code: 'endpoint_unavailable' }
    });
  });

  it('aborts the model request when the client leaves', async () => {
    let upstream: IUpstreamCall | undefined;
    f.model.handle = c => {
      upstream = c;
    };
    const ac = new AbortController();
    const pending = call(
      f,
      'alice',
      'POST',
      '/api/v1/assistant/complete',
      { endpointId: f.own.id, prefix: 'x' },
      ac.signal
    ).catch(() => null);
    while (upstream === undefined) {
      await new Promise(r => setTimeout(r, 10));
    }
    const closed = once(upstream.res, 'close');
    ac.abort();
    await pending;
    await closed;
    expect(upstream.res.writableEnded).toBe(false);
  });
});

describe('conversations', () => {
  it('keeps the question, streams the answer as it arrives and keeps it with its tokens', async () => {
    streams(['Use ', '`np.mean`', '.'], 40, 3);
    const c = await newConversation(f.own.id);
    expect(c).toMatchObject({ title: 'New conversation', messages: [] });
    const res = await call(
      f,
      'alice',
      'POST',
      `${CONVERSATIONS}/${c.id}/messages`,
      {
        content: 'How do I average an array?',
        context: 'x = np.arange(10)'
      }
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    expect(text).toContain('`np.mean`');
    expect(text).toContain('[DONE]');

    const sent = f.model.calls[0]?.body as {
      messages: { role: string; content: string }[];
      stream: boolean;
    };
    expect(sent.stream).toBe(true);
    expect(sent.messages[0]?.role).toBe('system');
    expect(sent.messages.at(-1)?.content).toContain('x = np.arange(10)');
    expect(sent.messages.at(-1)?.content).toMatch(
      /How do I average an array\?$/
    );

    const kept = await conversation(c.id);
    expect(kept.title).toBe('How do I average an array?');
    expect(
      kept.messages.map(m => [m.role, m.content, m.context, m.tokens])
    ).toEqual([
      ['user', 'How do I average an array?', 'x = np.arange(10)', null],
      ['assistant', 'Use `np.mean`.', null, 43]
    ]);

    // The next turn sends the history, not the earlier context.
    streams(['Yes.']);
    const again = await call(
      f,
      'alice',
      'POST',
      `${CONVERSATIONS}/${c.id}/messages`,
      {
        content: 'And the median?'
      }
    );
    await again.text();
    const second = f.model.calls[1]?.body as {
      messages: { role: string; content: string }[];
    };
    expect(second.messages.map(m => m.role)).toEqual([
      'system',
      'user',
      'assistant',
      'user'
    ]);
    expect(second.messages[1]?.content).toBe('How do I average an array?');
    expect((await conversation(c.id)).messages).toHaveLength(4);
    const list = await call(f, 'alice', 'GET', CONVERSATIONS);
    expect(
      (
        (await list.json()) as { conversations: { id: string }[] }
      ).conversations.map(x => x.id)
    ).toEqual([c.id]);
  });

  it('keeps a whole answer before the client sees its [DONE]', async () => {
    let endAnswer = (): void => undefined;
    f.model.handle = c => {
      c.res.writeHead(200, { 'content-type': 'text/event-stream' });
      c.res.write(sse(delta('Done ')));
      c.res.write(sse(delta('early.')));
      c.res.write(sse(usageChunk(20, 2)));
      c.res.write('data: [DONE]\n\n');
      endAnswer = () => c.res.end();
    };
    const c = await newConversation(f.own.id);
    const res = await call(
      f,
      'alice',
      'POST',
      `${CONVERSATIONS}/${c.id}/messages`,
      { content: 'Hi' }
    );
    const reader = res.body?.getReader();
    if (reader === undefined) {
      throw new Error('the answer has no body');
    }
    let seen = '';
    try {
      while (!seen.includes('[DONE]')) {
        const chunk = await reader.read();
        if (chunk.done) {
          break;
        }
        seen += new TextDecoder().decode(chunk.value);
      }
      expect(seen).toContain('data: [DONE]');
      // The model server has not ended its answer: the conversation already holds it.
      const kept = await conversation(c.id);
      expect(kept.messages.map(m => [m.role, m.content, m.tokens])).toEqual([
        ['user', 'Hi', null],
        ['assistant', 'Done early.', 22]
      ]);
    } finally {
      endAnswer();
    }
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      seen += new TextDecoder().decode(r.value);
    }
    expect((await conversation(c.id)).messages).toHaveLength(2);
  });

  it('keeps the answer as far as it streamed when the client leaves', async () => {
    let upstream: IUpstreamCall | undefined;
    f.model.handle = c => {
      upstream = c;
      c.res.writeHead(200, { 'content-type': 'text/event-stream' });
      c.res.write(sse(delta('Partial ')));
      c.res.write(sse(delta('answer')));
    };
    const c = await newConversation(f.own.id);
    const ac = new AbortController();
    const res = await call(
      f,
      'alice',
      'POST',
      `${CONVERSATIONS}/${c.id}/messages`,
      { content: 'Explain' },
      ac.signal
    );
    const reader = res.body?.getReader();
    let seen = '';
    while (!seen.includes('answer')) {
      const chunk = await reader?.read();
      seen += new TextDecoder().decode(chunk?.value);
    }
    if (upstream === undefined) {
      throw new Error('the model server got no request');
    }
    const closed = once(upstream.res, 'close');
    ac.abort();
    await closed;
    let messages = (await conversation(c.id)).messages;
    for (let i = 0; i < 50 && messages.length < 2; i++) {
      await new Promise(r => setTimeout(r, 20));
      messages = (await conversation(c.id)).messages;
    }
    expect(messages.map(m => [m.role, m.content])).toEqual([
      ['user', 'Explain'],
      ['assistant', 'Partial answer']
    ]);
    expect(messages[1]?.tokens).toBeGreaterThan(0);
  });

  it('keeps no question the gateway refused', async () => {
    await shareCourse(f, 10);
    const c = await newConversation(f.course.id);
    const res = await call(
      f,
      'alice',
      'POST',
      `${CONVERSATIONS}/${c.id}/messages`,
      {
        content: 'Hello'
      }
    );
    expect(res.status).toBe(429);
    expect((await conversation(c.id)).messages).toEqual([]);
    expect(f.model.calls).toHaveLength(0);
  });

  it("answers 404 on every route of another user's conversation", async () => {
    streams(['hi']);
    const c = await newConversation(f.own.id);
    const path = `${CONVERSATIONS}/${c.id}`;
    expect((await call(f, 'bob', 'GET', path)).status).toBe(404);
    expect((await call(f, 'bob', 'DELETE', path)).status).toBe(404);
    const send = await call(f, 'bob', 'POST', `${path}/messages`, {
      content: 'hi'
    });
    expect(send.status).toBe(404);
    const list = await call(f, 'bob', 'GET', CONVERSATIONS);
    expect(await list.json()).toEqual({ conversations: [] });
    // Bob may not start one on alice's endpoint either.
    expect(
      (await call(f, 'bob', 'POST', CONVERSATIONS, { endpointId: f.own.id }))
        .status
    ).toBe(404);
    expect(f.model.calls).toHaveLength(0);
    expect((await call(f, 'alice', 'DELETE', path)).status).toBe(204);
    expect((await call(f, 'alice', 'GET', path)).status).toBe(404);
  });

  it("counts chat tokens in the course's usage", async () => {
    await shareCourse(f, 10_000);
    streams(['ok'], 50, 5);
    const c = await newConversation(f.course.id, 'bob');
    const res = await call(
      f,
      'bob',
      'POST',
      `${CONVERSATIONS}/${c.id}/messages`,
      {
        content: 'Hello'
      }
    );
    await res.text();
    const usage = (await (
      await call(f, 'carol', 'GET', '/api/v1/courses/ml101/usage')
    ).json()) as CourseUsage;
    expect(usage.students.find(s => s.student === 'bob')).toMatchObject({
      tokensUsed: 55,
      completionTokens: 0,
      chatTokens: 55
    });
  });
});
