/**
 * Gateway unit-test fixture: the bridge app (app-fixture) with the gateway and key
 * routes registered, a fake IEndpointRouter and a tiny local HTTP server as the model
 * server.
 */
import { once } from 'node:events';
import { testStore } from './test-store';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BridgeApp } from '../../src/app';
import { Gateway } from '../../src/endpoints/gateway';
import { EndpointKeys } from '../../src/endpoints/keys';
import type {
  IEndpointRouter,
  IServedModel,
  IUpstream
} from '../../src/endpoints/ports';
import type { EndpointTable } from '../../src/endpoints/repository/endpoints';
import { EndpointUsage } from '../../src/endpoints/usage';
import { DomainError } from '../../src/domain-error';
import { endpointKeysRoutes } from '../../src/routes/endpoint-keys';
import { gatewayPrefix, gatewayRoutes } from '../../src/routes/gateway';
import { Store } from '../../src/store';
import { EndpointService } from '../../src/endpoints/service';
import {
  BASE,
  BRIDGE_SCOPE,
  HUB_USERS,
  testApp,
  type ITestApp
} from './app-fixture';
import { controllerFixture } from './endpoints-fakes';

HUB_USERS['gw-alice'] = {
  kind: 'user',
  name: 'alice',
  groups: ['ml101'],
  scopes: [BRIDGE_SCOPE, 'access:servers!user=alice']
};
HUB_USERS['gw-bob'] = {
  kind: 'user',
  name: 'bob',
  groups: ['ml101'],
  scopes: [BRIDGE_SCOPE, 'access:servers!user=bob']
};
HUB_USERS['gw-admin'] = {
  kind: 'user',
  name: 'admin',
  admin: true,
  groups: [],
  scopes: [BRIDGE_SCOPE, 'access:servers!user=admin']
};

export const ALICE = { authorization: 'token gw-alice' };
export const BOB = { authorization: 'token gw-bob' };
export const ADMIN = { authorization: 'token gw-admin' };
export const V1 = `${BASE}/v1`;

/** The endpoints of the tests: id → owner and model. */
export const ENDPOINTS: Record<string, { owner: string; model: string }> = {
  'ep-alice': { owner: 'alice', model: 'tiny-random' },
  'ep-bob': { owner: 'bob', model: 'small-random' }
};

export class FakeRouter implements IEndpointRouter {
  /** What `upstream()` answers next (the last one repeats); an Error rejects. */
  answers: (IUpstream | Error)[] = [];
  touches: string[] = [];
  failures: { endpointId: string; replicaId: string; reason: string }[] = [];
  upstreamCalls = 0;

  async upstream(endpointId: string, signal: AbortSignal): Promise<IUpstream> {
    signal.throwIfAborted();
    const i = Math.min(this.upstreamCalls, this.answers.length - 1);
    this.upstreamCalls += 1;
    const a = this.answers[i];
    if (a === undefined) {
      throw new DomainError(
        'upstream_unavailable',
        `no replica of ${endpointId}`
      );
    }
    if (a instanceof Error) {
      throw a;
    }
    return a;
  }

  touched(endpointId: string): void {
    this.touches.push(endpointId);
  }

  upstreamFailed(endpointId: string, replicaId: string, reason: string): void {
    this.failures.push({ endpointId, replicaId, reason });
  }

  modelOf(endpointId: string): IServedModel | null {
    const model = ENDPOINTS[endpointId]?.model;
    return model === undefined ? null : { name: model, accepts: [model] };
  }
}

/** Serves each endpoint of the table its model, and accepts its name too (as the controller does). */
export class TableRouter extends FakeRouter {
  constructor(private readonly table: EndpointTable) {
    super();
  }

  override modelOf(endpointId: string): IServedModel | null {
    const ep = this.table.get(endpointId);
    return ep === undefined
      ? null
      : { name: ep.model, accepts: [ep.model, ep.name] };
  }
}

export interface IUpstreamCall {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  req: IncomingMessage;
  res: ServerResponse;
}

/** A model server on 127.0.0.1: each request goes to `handle`, which tests replace. */
export class FakeModelServer {
  readonly calls: IUpstreamCall[] = [];
  handle: (call: IUpstreamCall) => void | Promise<void> = call => {
    call.res.writeHead(200, { 'content-type': 'application/json' });
    call.res.end(
      JSON.stringify({
        id: 'chatcmpl-1',
        object: 'chat.completion',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'hello' },
            finish_reason: 'stop'
          }
        ],
        usage: { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 }
      })
    );
  };
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const call: IUpstreamCall = {
        url: req.url ?? '',
        headers: req.headers,
        body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
        req,
        res
      };
      this.calls.push(call);
      void this.handle(call);
    });
  });

  async start(): Promise<IUpstream> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const { port } = this.server.address() as AddressInfo;
    return {
      baseUrl: `http://127.0.0.1:${port}`,
      apiKey: 'upstream-secret',
      replicaId: 'r1'
    };
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}

/** An address where nothing listens (a port that was just free). */
export async function deadUpstream(replicaId = 'dead'): Promise<IUpstream> {
  const s = http.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  s.close();
  await once(s, 'close');
  return { baseUrl: `http://127.0.0.1:${port}`, apiKey: 'x', replicaId };
}

/** A clock the tests move. Starts at a minute boundary. */
export class FakeClock {
  t = Date.UTC(2026, 10, 25, 12, 0, 0);
  now = (): number => this.t;
}

export interface IGatewayFixture {
  app: BridgeApp;
  store: Store;
  keys: EndpointKeys;
  usage: EndpointUsage;
  router: FakeRouter;
  gateway: Gateway;
  clock: FakeClock;
}

/** The app with the gateway and the key routes; the endpoints of ENDPOINTS exist in the store. */
export async function gatewayFixture(): Promise<IGatewayFixture> {
  const store = testStore();
  for (const [id, e] of Object.entries(ENDPOINTS)) {
    store.db
      .prepare(
        "INSERT INTO endpoints (id, owner, name, created_at, record) VALUES (?, ?, ?, ?, '{}')"
      )
      .run(id, e.owner, id, new Date().toISOString());
  }
  const clock = new FakeClock();
  const keys = new EndpointKeys(store, clock.now);
  const usage = new EndpointUsage(store, { now: clock.now });
  const router = new FakeRouter();
  const gateway = new Gateway({ keys, usage, router, now: clock.now });
  const { app } = await testApp({
    store,
    close: async () => {
      usage.close();
      gateway.close();
      store.close();
    }
  });
  // The app's access hook gives these routes the fixture's hub auth (HUB_USERS).
  await app.register(
    async api => {
      await api.register(endpointKeysRoutes, {
        version: 'test',
        hub: { check: async () => 'ok' },
        clusters: [],
        s3: [],
        backendTimeoutMs: 1000,
        keys,
        usage,
        endpointOwner: id => ENDPOINTS[id]?.owner ?? null,
        audit: entry => store.audit(entry)
      });
    },
    { prefix: BASE }
  );
  await app.register(gatewayRoutes, {
    prefix: gatewayPrefix(`${BASE}/`),
    gateway
  });
  return { app, store, keys, usage, router, gateway, clock };
}

/** The app with every serving route: endpoints, their keys, the gateway and the assistant. */
export async function servingApp(): Promise<ITestApp> {
  const store = testStore();
  const serving = controllerFixture(undefined, store);
  const usage = new EndpointUsage(store);
  const keys = new EndpointKeys(store);
  const gateway = new Gateway({ keys, usage, router: new FakeRouter() });
  return testApp({
    store,
    endpoints: {
      service: new EndpointService({
        config: serving.config,
        table: serving.table,
        controller: serving.controller,
        store
      }),
      keys: { keys, usage },
      gateway
    },
    close: async () => {
      usage.close();
      gateway.close();
      store.close();
    }
  });
}

/** A listening gateway with a live fake model server behind it and a key of alice's. */
export interface ILiveGateway {
  f: IGatewayFixture;
  model: FakeModelServer;
  live: IUpstream;
  base: string;
  aliceKey: string;
  close(): Promise<void>;
}

export async function liveGateway(): Promise<ILiveGateway> {
  const f = await gatewayFixture();
  const model = new FakeModelServer();
  const live = await model.start();
  f.router.answers = [live];
  await f.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = f.app.server.address() as AddressInfo;
  return {
    f,
    model,
    live,
    base: `http://127.0.0.1:${port}${V1}`,
    aliceKey: f.keys.create('ep-alice', 'alice', { name: 'k' }).key,
    close: async () => {
      await model.stop();
      // fetch (undici) opens a spare connection after an abort; it would hold close() up.
      f.app.server.closeAllConnections();
      await f.app.close();
    }
  };
}
