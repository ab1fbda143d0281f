/**
 * Assistant unit-test fixture: the bridge app listening on 127.0.0.1 with real endpoint,
 * course and key services, the gateway with a fake router that reads the endpoint table,
 * and a fake model server. Carol teaches ml101 (alice and bob take it) and shares her
 * endpoint with it; alice owns an endpoint; dave shares one with the group `lab`.
 */
import type { AddressInfo } from 'node:net';
import { testStore } from './test-store';
import type { BridgeApp } from '../../src/app';
import type { IAuthUser } from '../../src/auth/decide';
import type { Endpoint } from '../../src/contract';
import { Gateway } from '../../src/endpoints/gateway';
import { EndpointKeys } from '../../src/endpoints/keys';
import type { IUpstream } from '../../src/endpoints/ports';
import { EndpointService } from '../../src/endpoints/service';
import { EndpointUsage } from '../../src/endpoints/usage';
import { Store } from '../../src/store';
import { BASE, BRIDGE_SCOPE, HUB_USERS, testApp } from './app-fixture';
import { controllerFixture } from './endpoints-fakes';
import { FakeClock, FakeModelServer, TableRouter } from './gateway-fakes';

const hubUser = (name: string, groups: string[]) => ({
  kind: 'user',
  name,
  admin: false,
  groups,
  scopes: [BRIDGE_SCOPE, `access:servers!user=${name}`]
});
HUB_USERS['as-alice'] = hubUser('alice', ['ml101', 'lab']);
HUB_USERS['as-bob'] = hubUser('bob', ['ml101']);
HUB_USERS['as-carol'] = hubUser('carol', ['ml101-instructors']);
HUB_USERS['as-dave'] = hubUser('dave', ['lab']);

export type Who = 'alice' | 'bob' | 'carol' | 'dave';
export const token = (who: Who) => ({ authorization: `token as-${who}` });

/** A researcher in `groups`; instructor of G for each group `G-instructors`. */
export const authUser = (name: string, groups: string[]): IAuthUser => ({
  name,
  groups,
  roles: ['researcher'],
  instructorOf: groups
    .filter(g => g.endsWith('-instructors'))
    .map(g => g.slice(0, -'-instructors'.length)),
  admin: false
});

export interface IAssistantFixture {
  app: BridgeApp;
  store: Store;
  keys: EndpointKeys;
  usage: EndpointUsage;
  router: TableRouter;
  model: FakeModelServer;
  live: IUpstream;
  /** The bridge's base URL (`http://127.0.0.1:PORT/services/hpc-bridge`). */
  base: string;
  course: Endpoint;
  own: Endpoint;
  shared: Endpoint;
  close(): Promise<void>;
}

export async function assistantFixture(): Promise<IAssistantFixture> {
  const store = testStore();
  const serving = controllerFixture(undefined, store);
  const endpoints = new EndpointService({
    config: serving.config,
    table: serving.table,
    controller: serving.controller,
    store
  });
  const clock = new FakeClock();
  const keys = new EndpointKeys(store, clock.now);
  const usage = new EndpointUsage(store, { now: clock.now });
  const router = new TableRouter(serving.table);
  const gateway = new Gateway({ keys, usage, router, now: clock.now });
  const { app } = await testApp({
    store,
    endpoints: { service: endpoints, keys: { keys, usage }, gateway },
    hubGroups: async () =>
      new Map([
        ['ml101', ['alice', 'bob']],
        ['ml101-instructors', ['carol']],
        ['lab', ['alice', 'dave']]
      ]),
    close: async () => {
      usage.close();
      gateway.close();
      store.close();
    }
  });
  const model = new FakeModelServer();
  const live = await model.start();
  router.answers = [live];
  const create = (owner: IAuthUser, name: string, group?: string) =>
    endpoints.create(owner, {
      name,
      model: 'tiny-random',
      provider: 'local',
      ...(group === undefined
        ? {}
        : { visibility: group === 'ml101' ? 'course' : 'group', group })
    });
  const course = create(
    authUser('carol', ['ml101-instructors']),
    'course',
    'ml101'
  );
  const own = create(authUser('alice', ['ml101', 'lab']), 'mine');
  const shared = create(authUser('dave', ['lab']), 'labs', 'lab');
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    app,
    store,
    keys,
    usage,
    router,
    model,
    live,
    base: `http://127.0.0.1:${port}${BASE}`,
    course,
    own,
    shared,
    close: async () => {
      await model.stop();
      app.server.closeAllConnections();
      await app.close();
    }
  };
}

/** A request to the bridge as `who`, JSON in and out. */
export async function call(
  f: IAssistantFixture,
  who: Who,
  method: string,
  path: string,
  body?: unknown,
  signal?: AbortSignal
): Promise<Response> {
  return fetch(`${f.base}${path}`, {
    method,
    headers: {
      ...token(who),
      ...(body === undefined ? {} : { 'content-type': 'application/json' })
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    ...(signal === undefined ? {} : { signal })
  });
}

/** Carol shares her endpoint with ml101 with a budget and the assistant switched as given. */
export async function shareCourse(
  f: IAssistantFixture,
  tokenBudget = 1000,
  assistant = { completion: true, chat: true }
): Promise<void> {
  const res = await call(f, 'carol', 'PUT', '/api/v1/courses/ml101', {
    endpoint: { endpointId: f.course.id, tokenBudget },
    assistant
  });
  if (res.status !== 200) {
    throw new Error(`course setup: ${res.status} ${await res.text()}`);
  }
}

/** An SSE event of a chat chunk. */
export const sse = (data: unknown): string =>
  `data: ${JSON.stringify(data)}\n\n`;
export const delta = (content: string) => ({
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta: { content }, finish_reason: null }]
});
export const usageChunk = (prompt: number, completion: number) => ({
  object: 'chat.completion.chunk',
  choices: [],
  usage: {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion
  }
});

/** A completion answer with its usage. */
export function completionAnswer(text: string, prompt = 20, completion = 4) {
  return {
    id: 'cmpl-1',
    object: 'text_completion',
    model: 'tiny-random',
    choices: [{ index: 0, text, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion
    }
  };
}
