/**
 * @jest-environment node
 */
import { AssistantApi, AssistantError } from '../assistant/api';
import { BridgeClient } from '../core/client';
import { identityTrans, json, queuedFetch } from './helpers';

const BASE = '/services/hpc-bridge/';

function makeApi(answers: Parameters<typeof queuedFetch>[0]) {
  const { fetch, requests } = queuedFetch(answers);
  const client = new BridgeClient({
    baseUrl: BASE,
    getToken: () => 'secret-token',
    trans: identityTrans(),
    fetch
  });
  return { api: new AssistantApi(client), requests, client };
}

/** A `text/event-stream` answer whose body arrives in the given pieces. */
function eventStream(pieces: string[]): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) {
        controller.enqueue(encoder.encode(piece));
      }
      controller.close();
    }
  });
  return new Response(body, {
    headers: { 'Content-Type': 'text/event-stream' }
  });
}

const chunk = (content: string) =>
  `data: ${JSON.stringify({ choices: [{ delta: { content } }] })}\n\n`;

async function collect(stream: AsyncIterable<string>): Promise<string[]> {
  const parts: string[] = [];
  for await (const part of stream) {
    parts.push(part);
  }
  return parts;
}

async function failure(promise: Promise<unknown>): Promise<AssistantError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AssistantError);
    return error as AssistantError;
  }
  throw new Error('the request did not fail');
}

describe('AssistantApi', () => {
  it('yields the text deltas of the streamed answer, split anywhere', async () => {
    const whole = `${chunk('Hel')}${chunk('lo')}: {}\n\n${chunk('!')}data: [DONE]\n\n`;
    const { api, requests } = makeApi([
      eventStream([whole.slice(0, 17), whole.slice(17, 60), whole.slice(60)])
    ]);
    const parts = await collect(
      api.send('c1', { content: 'Hi', context: 'x = 1' })
    );
    expect(parts).toEqual(['Hel', 'lo', '!']);
    expect(requests[0].url).toBe(
      `${BASE}api/v1/assistant/conversations/c1/messages`
    );
    expect(requests[0].init.method).toBe('POST');
    expect(JSON.parse(requests[0].init.body as string)).toEqual({
      content: 'Hi',
      context: 'x = 1'
    });
    const headers = requests[0].init.headers as Record<string, string>;
    expect(headers['Accept']).toBe('text/event-stream');
    expect(headers['Content-Type']).toBe('application/json');
    expect(headers['Authorization']).toBe('token secret-token');
  });

  it('turns an error answer into an AssistantError with the status and code', async () => {
    const { api, client } = makeApi([
      json(
        {
          error: {
            message: 'Your budget is spent.',
            type: 'insufficient_quota',
            code: 'insufficient_quota'
          }
        },
        429
      )
    ]);
    const error = await failure(collect(api.send('c1', { content: 'Hi' })));
    expect(error.status).toBe(429);
    expect(error.code).toBe('insufficient_quota');
    expect(error.message).toBe('Your budget is spent.');
    expect(client.connection).toBe('connected');
  });

  it('fails on an error chunk in the middle of the stream', async () => {
    const { api } = makeApi([
      eventStream([
        chunk('Par'),
        `data: ${JSON.stringify({ error: { message: 'The model stopped.' } })}\n\n`
      ])
    ]);
    const parts: string[] = [];
    const error = await failure(
      (async () => {
        for await (const part of api.send('c1', { content: 'Hi' })) {
          parts.push(part);
        }
      })()
    );
    expect(parts).toEqual(['Par']);
    expect(error.message).toBe('The model stopped.');
  });

  it("completes with the first choice's text", async () => {
    const { api, requests } = makeApi([
      json({ id: 'x', choices: [{ text: 'rt numpy', index: 0 }] })
    ]);
    const text = await api.complete({
      endpointId: 'e1',
      prefix: 'impo',
      suffix: '',
      maxTokens: 48
    });
    expect(text).toBe('rt numpy');
    expect(requests[0].url).toBe(`${BASE}api/v1/assistant/complete`);
    expect(JSON.parse(requests[0].init.body as string)).toMatchObject({
      prefix: 'impo',
      maxTokens: 48
    });
  });

  it('reports a revoked key with its status', async () => {
    const { api } = makeApi([
      json(
        {
          error: {
            message: 'The key was revoked.',
            type: 'invalid_request_error',
            code: 'invalid_api_key'
          }
        },
        401
      )
    ]);
    const error = await failure(
      api.complete({ endpointId: 'e1', prefix: 'x' })
    );
    expect(error.status).toBe(401);
    expect(error.code).toBe('invalid_api_key');
  });

  it('passes an abort on as an abort', async () => {
    const { api } = makeApi([
      () => Promise.reject(new DOMException('aborted', 'AbortError'))
    ]);
    const controller = new AbortController();
    controller.abort();
    const error = await api
      .complete({ endpointId: 'e1', prefix: 'x' }, controller.signal)
      .catch(e => e);
    expect(AssistantApi.isAbort(error)).toBe(true);
  });

  it('lists the endpoints and conversations', async () => {
    const { api } = makeApi([
      json({ endpoints: [] }),
      json({
        conversations: [
          {
            id: 'c1',
            title: 'Why?',
            endpointId: 'e1',
            createdAt: '2026-03-01T10:00:00.000Z',
            updatedAt: '2026-03-01T10:00:00.000Z'
          }
        ]
      })
    ]);
    expect(await api.endpoints()).toEqual([]);
    expect((await api.conversations()).map(c => c.title)).toEqual(['Why?']);
  });
});
