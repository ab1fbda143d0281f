/**
 * @jest-environment node
 */
import type {
  BridgeEvent,
  JobSubmit,
  SshCredential
} from '@hpc-bridge/server/contract';
import { BridgeClient } from '../core/client';
import { BridgeRequestError } from '../transport/errors';
import { SseParser } from '../transport/events';
import type { Bridge } from '../tokens';
import {
  identityTrans,
  job,
  json,
  queuedFetch,
  streamingResponse,
  waitFor
} from './helpers';

const BASE = '/services/hpc-bridge/';

function makeClient(answers: Parameters<typeof queuedFetch>[0]) {
  const { fetch, requests } = queuedFetch(answers);
  const client = new BridgeClient({
    baseUrl: BASE,
    getToken: () => 'secret-token',
    trans: identityTrans(),
    fetch,
    eventStream: { minDelayMs: 5, maxDelayMs: 20 }
  });
  return { client, requests };
}

const CREDENTIAL = {
  cluster: 'demo',
  clusterUser: 'bob',
  publicKey: 'ssh-ed25519 AAAAC3Nza bob@hpc-bridge',
  fingerprint: 'SHA256:abc',
  instructions: 'Run: echo KEY >> ~/.ssh/authorized_keys'
};

describe('BridgeClient jobs', () => {
  it('posts the submission as JSON and validates the job', async () => {
    const { client, requests } = makeClient([json(job(), 201)]);
    const request: JobSubmit = {
      name: 'analysis',
      notebook: {
        path: 'work/analysis.ipynb',
        content: { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] }
      },
      profile: 'cpu-small',
      parameters: { alpha: 0.5 }
    };
    const submitted = await client.submitJob(request);
    expect(submitted.id).toBe('j1');
    expect(requests[0].url).toBe(`${BASE}api/v1/jobs`);
    expect(requests[0].init.method).toBe('POST');
    expect(requests[0].init.headers).toMatchObject({
      Authorization: 'token secret-token',
      'Content-Type': 'application/json'
    });
    expect(JSON.parse(String(requests[0].init.body))).toEqual(request);
  });

  it('sends list filters as the query and skips empty ones', async () => {
    const { client, requests } = makeClient([json({ jobs: [job()] })]);
    const list = await client.listJobs({ state: 'RUNNING', name: '' });
    expect(list.jobs).toHaveLength(1);
    expect(requests[0].url).toBe(`${BASE}api/v1/jobs?state=RUNNING`);
  });

  it('rejects a job that breaks the contract', async () => {
    const { client } = makeClient([json(job({ state: 'WEIRD' }))]);
    await expect(client.getJob('j1')).rejects.toMatchObject({
      reason: 'invalid-response'
    });
  });

  it('surfaces the key to install on 412 cluster_auth_failed', async () => {
    const body = {
      error: {
        code: 'cluster_auth_failed',
        message: 'The cluster refused your key.',
        details: CREDENTIAL
      }
    };
    const { client } = makeClient([json(body, 412)]);
    const seen: SshCredential[] = [];
    client.clusterAuthFailed.connect((_, credential) => seen.push(credential));
    const error = await client.jobAction('j1', 'cancel').catch(e => e);
    expect(error).toBeInstanceOf(BridgeRequestError);
    expect((error as BridgeRequestError).status).toBe(412);
    expect((error as BridgeRequestError).credential).toEqual(CREDENTIAL);
    expect(seen).toEqual([CREDENTIAL]);
  });

  it('streams the log as text chunks with follow=1', async () => {
    const stream = streamingResponse('text/plain');
    const { client, requests } = makeClient([stream.response]);
    const chunks: string[] = [];
    const done = (async () => {
      for await (const chunk of client.logStream('j1', {
        stream: 'stderr',
        element: 2,
        follow: true
      })) {
        chunks.push(chunk);
      }
    })();
    await waitFor(() => requests.length === 1);
    stream.push('Traceback (most recent call last):\n');
    stream.push('ZeroDivisionError\n');
    stream.close();
    await done;
    expect(requests[0].url).toBe(
      `${BASE}api/v1/jobs/j1/log?stream=stderr&element=2&follow=1`
    );
    expect(chunks.join('')).toBe(
      'Traceback (most recent call last):\nZeroDivisionError\n'
    );
  });

  it('reports a missing output as the bridge said', async () => {
    const { client, requests } = makeClient([
      json({ error: { code: 'not_found', message: 'No output yet.' } }, 404)
    ]);
    await expect(client.getOutput('j1', 1)).rejects.toThrow('No output yet.');
    expect(requests[0].url).toBe(`${BASE}api/v1/jobs/j1/output?element=1`);
  });
});

describe('SseParser', () => {
  it('parses events split across chunks, CRLF and comments', () => {
    const parser = new SseParser();
    expect(parser.push(': ping\n\nevent: job\ndata: {"a":')).toEqual([]);
    expect(parser.push('1}\r\n\r\ndata: x\ndata: y\n\n')).toEqual([
      { event: 'job', data: '{"a":1}' },
      { event: 'message', data: 'x\ny' }
    ]);
  });

  it('validates events with the contract', () => {
    const valid = SseParser.toBridgeEvent({
      event: 'job',
      data: JSON.stringify({ type: 'job', job: job() })
    });
    expect(valid?.type).toBe('job');
    const typed = SseParser.toBridgeEvent({
      event: 'ping',
      data: JSON.stringify({ at: '2026-11-25T10:00:00.000Z' })
    });
    expect(typed).toEqual({ type: 'ping', at: '2026-11-25T10:00:00.000Z' });
    expect(
      SseParser.toBridgeEvent({
        event: 'job',
        data: JSON.stringify({ type: 'job', job: { id: 1 } })
      })
    ).toBeNull();
    expect(SseParser.toBridgeEvent({ event: 'job', data: '{' })).toBeNull();
  });
});

describe('BridgeClient.events', () => {
  it('sends the token, emits events and reconnects after a drop', async () => {
    const first = streamingResponse();
    const second = streamingResponse();
    const { client, requests } = makeClient([
      first.response,
      new TypeError('Failed to fetch'),
      second.response
    ]);
    const stream = client.events();
    const received: BridgeEvent[] = [];
    const states: Bridge.EventStreamState[] = [];
    stream.received.connect((_, event) => received.push(event));
    stream.stateChanged.connect((_, state) => states.push(state));

    await waitFor(() => stream.state === 'open');
    expect(requests[0].url).toBe(`${BASE}api/v1/events`);
    expect(requests[0].init.headers).toMatchObject({
      Authorization: 'token secret-token',
      Accept: 'text/event-stream'
    });
    first.push(
      `event: job\ndata: ${JSON.stringify({ type: 'job', job: job() })}\n\n`
    );
    await waitFor(() => received.length === 1);
    first.close();
    // One failed attempt in between, then the second stream opens.
    await waitFor(() => requests.length === 3 && stream.state === 'open');
    second.push(
      `event: ping\ndata: {"type":"ping","at":"2026-11-25T10:00:00.000Z"}\n\n`
    );
    await waitFor(() => received.length === 2);
    expect(received.map(event => event.type)).toEqual(['job', 'ping']);
    expect(states).toEqual(['open', 'connecting', 'open']);

    stream.dispose();
    expect(stream.state).toBe('closed');
    expect(stream.isDisposed).toBe(true);
  });

  it('reopens a stream that stays silent', async () => {
    const silent = streamingResponse();
    const next = streamingResponse();
    const { fetch, requests } = queuedFetch([silent.response, next.response]);
    const client = new BridgeClient({
      baseUrl: BASE,
      getToken: () => '',
      trans: identityTrans(),
      fetch: (url, init) => {
        init.signal?.addEventListener('abort', () => silent.close());
        return fetch(url, init);
      },
      eventStream: { minDelayMs: 5, silenceMs: 30 }
    });
    const stream = client.events();
    await waitFor(() => requests.length === 2);
    stream.dispose();
  });
});
