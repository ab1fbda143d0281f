/**
 * @jest-environment node
 */
import { BridgeClient } from '../core/client';
import { BridgeRequestError } from '../transport/errors';
import type { Bridge } from '../tokens';
import { CLUSTERS, identityTrans, json, queuedFetch } from './helpers';

const BASE = '/services/hpc-bridge/';

function makeClient(
  answers: Parameters<typeof queuedFetch>[0],
  options: Partial<BridgeClient.IOptions> = {}
) {
  const { fetch, requests } = queuedFetch(answers);
  const client = new BridgeClient({
    baseUrl: BASE,
    getToken: () => 'secret-token',
    trans: identityTrans(),
    fetch,
    ...options
  });
  return { client, requests };
}

async function failure(promise: Promise<unknown>): Promise<BridgeRequestError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BridgeRequestError);
    return error as BridgeRequestError;
  }
  throw new Error('the request did not fail');
}

describe('BridgeClient.resolveBaseUrl', () => {
  it('prefers the bridgeUrl setting and adds the trailing slash', () => {
    expect(
      BridgeClient.resolveBaseUrl({
        setting: ' https://bridge.example.org/api-root ',
        hubPrefix: '/hub/'
      })
    ).toBe('https://bridge.example.org/api-root/');
  });

  it('derives /services/hpc-bridge/ from the hub prefix', () => {
    expect(
      BridgeClient.resolveBaseUrl({ setting: '', hubPrefix: '/hub/' })
    ).toBe('/services/hpc-bridge/');
    expect(
      BridgeClient.resolveBaseUrl({
        hubHost: 'https://hub.example.org',
        hubPrefix: '/jupyter/hub/'
      })
    ).toBe('https://hub.example.org/jupyter/services/hpc-bridge/');
  });

  it('is null without a hub and without a setting', () => {
    expect(
      BridgeClient.resolveBaseUrl({ setting: null, hubPrefix: '' })
    ).toBeNull();
  });
});

describe('BridgeClient', () => {
  it('sends the hub token and returns the validated clusters', async () => {
    const { client, requests } = makeClient([json(CLUSTERS)]);
    const states: Bridge.ConnectionState[] = [];
    client.connectionChanged.connect((_, state) => states.push(state));

    const list = await client.clusters();

    expect(requests).toHaveLength(1);
    expect(requests[0].url).toBe('/services/hpc-bridge/api/v1/clusters');
    expect(requests[0].init.headers).toMatchObject({
      Authorization: 'token secret-token'
    });
    expect(list.clusters[0].partitions.map(p => p.name)).toEqual([
      'cpu',
      'gpu'
    ]);
    expect(list.clusters[0].partitions[1].gpus).toEqual({ total: 2, idle: 2 });
    expect(client.connection).toBe('connected');
    expect(states).toEqual(['connected']);
  });

  it('sends no Authorization header without a token', async () => {
    const { client, requests } = makeClient(
      [json({ name: 'hpc-bridge', version: '0.1.0', contract: '1' })],
      { getToken: () => '' }
    );
    await client.version();
    expect(requests[0].init.headers).not.toHaveProperty('Authorization');
  });

  it('rejects an answer that breaks the contract', async () => {
    const broken = { clusters: [{ name: 'demo', partitions: 'none' }] };
    const { client } = makeClient([json(broken)]);
    const error = await failure(client.clusters());
    expect(error.reason).toBe('invalid-response');
    expect(error.message).toContain('does not understand');
    expect(error.message).toContain('clusters.0');
  });

  it("passes the bridge's error body and code through", async () => {
    const body = {
      error: {
        code: 'forbidden',
        message: 'Your token lacks the bridge scope.'
      }
    };
    const { client } = makeClient([json(body, 403)]);
    const error = await failure(client.whoami());
    expect(error.reason).toBe('http');
    expect(error.status).toBe(403);
    expect(error.code).toBe('forbidden');
    expect(error.message).toBe('Your token lacks the bridge scope.');
    // The bridge answered: it is reachable.
    expect(client.connection).toBe('connected');
  });

  it("passes a model call's error in the gateway's shape through", async () => {
    const body = {
      error: {
        message: 'The token budget of this key is spent.',
        type: 'insufficient_quota',
        code: 'insufficient_quota'
      }
    };
    const { client } = makeClient([json(body, 429)]);
    const error = await failure(client.fetchRaw('POST', 'api/v1/x'));
    expect(error.reason).toBe('http');
    expect(error.status).toBe(429);
    expect(error.code).toBeNull();
    expect(error.gatewayCode).toBe('insufficient_quota');
    expect(error.message).toBe('The token budget of this key is spent.');
    expect(client.connection).toBe('connected');
  });

  it('passes an aborted raw request on without calling the bridge unreachable', async () => {
    const controller = new AbortController();
    const { client } = makeClient([], {
      fetch: (_url, init) =>
        new Promise<Response>((_resolve, reject) => {
          const abort = () => reject(new DOMException('aborted', 'AbortError'));
          if (init.signal?.aborted) {
            abort();
          }
          init.signal?.addEventListener('abort', abort);
        })
    });
    const request = client.fetchRaw('POST', 'api/v1/x', {
      signal: controller.signal
    });
    controller.abort();
    await expect(request).rejects.toMatchObject({ name: 'AbortError' });
    expect(client.connection).toBe('unknown');
  });

  it('turns a 404 from something else into an install hint', async () => {
    const { client } = makeClient([
      new Response('<html>404 Not Found</html>', { status: 404 })
    ]);
    const error = await failure(client.clusters());
    expect(error.reason).toBe('missing');
    expect(error.status).toBe(404);
    expect(error.message).toContain('Install the bridge');
    expect(error.message).toContain(BASE);
    expect(client.connection).toBe('disconnected');
  });

  it('reports a proxy 503 as a bridge that is not running', async () => {
    const { client } = makeClient([
      new Response('Service Unavailable', { status: 503 })
    ]);
    const error = await failure(client.health());
    expect(error.reason).toBe('unavailable');
    expect(error.message).toContain('is not running');
  });

  it('reports a network failure with what to check', async () => {
    const { client } = makeClient([new TypeError('Failed to fetch')]);
    const states: Bridge.ConnectionState[] = [];
    client.connectionChanged.connect((_, state) => states.push(state));
    const error = await failure(client.clusters());
    expect(error.reason).toBe('network');
    expect(error.status).toBe(0);
    expect(error.message).toContain('Cannot reach the HPC Bridge');
    expect(states).toEqual(['disconnected']);
  });

  it('gives up after the timeout', async () => {
    const { client } = makeClient(
      [
        () =>
          new Promise<Response>(() => {
            // never answers
          })
      ],
      {
        timeoutMs: 20,
        fetch: (_url, init) =>
          new Promise<Response>((_resolve, reject) => {
            init.signal?.addEventListener('abort', () =>
              reject(new Error('aborted'))
            );
          })
      }
    );
    const error = await failure(client.clusters());
    expect(error.reason).toBe('timeout');
  });

  it('does not send anything when the bridge URL is unknown', async () => {
    const { client, requests } = makeClient([], { baseUrl: null });
    const error = await failure(client.whoami());
    expect(error.reason).toBe('unconfigured');
    expect(error.message).toContain('Bridge URL');
    expect(requests).toHaveLength(0);
  });

  it('waits for the settings before the first request', async () => {
    let settle: () => void = () => undefined;
    const ready = new Promise<void>(resolve => {
      settle = resolve;
    });
    const { client, requests } = makeClient([json(CLUSTERS)], {
      baseUrl: null,
      ready
    });
    const pending = client.clusters();
    await Promise.resolve();
    expect(requests).toHaveLength(0);
    client.configure({ baseUrl: 'https://bridge.example.org/' });
    settle();
    await pending;
    expect(requests[0].url).toBe('https://bridge.example.org/api/v1/clusters');
  });

  it('announces a new base URL and forgets the connection state', async () => {
    const { client } = makeClient([json(CLUSTERS)]);
    await client.clusters();
    const urls: Array<string | null> = [];
    client.baseUrlChanged.connect((_, url) => urls.push(url));
    client.configure({ baseUrl: 'https://other.example.org/' });
    client.configure({ baseUrl: 'https://other.example.org/' });
    expect(urls).toEqual(['https://other.example.org/']);
    expect(client.connection).toBe('unknown');
  });
});
