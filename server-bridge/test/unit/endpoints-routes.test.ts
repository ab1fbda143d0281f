/** The endpoint lifecycle and catalog routes through app.inject, over a fake provider. */
import type { BridgeApp } from '../../src/app';
import {
  EndpointListSchema,
  EndpointSchema,
  ErrorBodySchema,
  ModelCatalogSchema,
  Routes
} from '../../src/contract';
import { EndpointService } from '../../src/endpoints/service';
import { BASE, BRIDGE_SCOPE, HUB_USERS, testApp } from './app-fixture';
import {
  controllerFixture,
  SERVING_CONFIG,
  servingConfig,
  type IControllerFixture
} from './endpoints-fakes';

HUB_USERS['ep-alice'] = {
  kind: 'user',
  name: 'alice',
  groups: ['nlp', 'ml101-instructors'],
  scopes: [BRIDGE_SCOPE, 'access:servers!user=alice']
};
HUB_USERS['ep-bob'] = {
  kind: 'user',
  name: 'bob',
  groups: ['nlp', 'ml101'],
  scopes: [BRIDGE_SCOPE, 'access:servers!user=bob']
};
HUB_USERS['ep-eve'] = {
  kind: 'user',
  name: 'eve',
  groups: [],
  scopes: [BRIDGE_SCOPE, 'access:servers!user=eve']
};
HUB_USERS['ep-admin'] = {
  kind: 'user',
  name: 'root',
  admin: true,
  groups: [],
  scopes: [BRIDGE_SCOPE, 'access:servers!user=root']
};

const ALICE = { authorization: 'token ep-alice' };
const BOB = { authorization: 'token ep-bob' };
const EVE = { authorization: 'token ep-eve' };
const ADMIN = { authorization: 'token ep-admin' };

let f: IControllerFixture;
let app: BridgeApp;

beforeEach(async () => {
  // three endpoints of one user below
  f = controllerFixture(
    servingConfig({
      serving: {
        ...SERVING_CONFIG.serving,
        providers: { local: { maxReplicas: 4, maxReplicasPerUser: 3 } }
      }
    })
  );
  const service = new EndpointService({
    config: f.config,
    table: f.table,
    controller: f.controller,
    store: f.store
  });
  ({ app } = await testApp({
    store: f.store,
    endpoints: { service },
    close: async () => f.store.close()
  }));
});

afterEach(async () => {
  await app.close();
});

async function create(
  headers: Record<string, string>,
  body: Record<string, unknown>
) {
  return app.inject({
    method: 'POST',
    url: `${BASE}${Routes.endpoints}`,
    headers,
    payload: { name: 'chat', model: 'tiny-random', provider: 'local', ...body }
  });
}

function errorOf(res: { json: () => unknown }) {
  return ErrorBodySchema.parse(res.json()).error;
}

describe('endpoint routes', () => {
  it('lists the catalog with ranges and the gateway URL', async () => {
    const res = await app.inject({
      url: `${BASE}${Routes.modelCatalog}`,
      headers: EVE
    });
    expect(res.statusCode).toBe(200);
    expect(ModelCatalogSchema.parse(res.json())).toEqual({
      gatewayUrl: 'http://hub.example:8000/services/hpc-bridge/v1',
      idleMinutes: { default: 15, min: 1, max: 1440 },
      providers: [
        {
          name: 'local',
          title: 'Bridge host',
          description: expect.stringContaining('development')
        }
      ],
      models: [
        {
          name: 'tiny-random',
          title: 'Tiny random llama',
          recipe: 'llama-server',
          providers: ['local'],
          resources: {
            cpus: { default: 1, min: 1, max: 4 },
            memoryMB: { default: 1000, min: 1, max: 1000 },
            gpus: { default: 0, min: 0, max: 0 },
            timeMinutes: { default: 60, min: 1, max: 240 }
          }
        }
      ]
    });
  });

  it('creates an endpoint (201, pending, defaults) and it starts in the background', async () => {
    const res = await create(ALICE, { resources: { cpus: 2 } });
    expect(res.statusCode).toBe(201);
    const ep = EndpointSchema.parse(res.json());
    expect(ep).toMatchObject({
      name: 'chat',
      owner: 'alice',
      model: 'tiny-random',
      provider: 'local',
      resources: { cpus: 2, memoryMB: 1000, gpus: 0, timeMinutes: 60 },
      idleMinutes: 15,
      visibility: 'private',
      group: null,
      state: 'pending',
      url: 'http://hub.example:8000/services/hpc-bridge/v1'
    });
    await f.controller.tick();
    const key = f.table.replicas(ep.id)[0]?.upstreamKey ?? '';
    expect(key).not.toBe('');
    const got = await app.inject({
      url: `${BASE}${Routes.endpoint(ep.id)}`,
      headers: ALICE
    });
    expect(JSON.stringify(got.json())).not.toContain(key);
    expect(EndpointSchema.parse(got.json())).toMatchObject({
      state: 'starting',
      replicas: [{ provider: 'local', state: 'pending' }]
    });
  });

  it('refuses bad requests with a sentence', async () => {
    expect(errorOf(await create(ALICE, { model: 'gpt-5' })).message).toBe(
      'No model named "gpt-5" in the catalog'
    );
    expect(errorOf(await create(ALICE, { provider: 'slurm' })).message).toBe(
      'Model tiny-random cannot be served by the slurm provider (allowed: local)'
    );
    expect(
      errorOf(await create(ALICE, { resources: { cpus: 9 } })).message
    ).toBe(
      'Resources outside the limits of model tiny-random: cpus=9 (allowed 1–4)'
    );
    expect(errorOf(await create(ALICE, { idleMinutes: 5000 })).message).toBe(
      'idleMinutes=5000 is outside 1–1440'
    );
    expect(errorOf(await create(ALICE, { visibility: 'group' })).message).toBe(
      'Visibility group needs a group'
    );
    const notMember = await create(ALICE, {
      visibility: 'group',
      group: 'genomics'
    });
    expect(notMember.statusCode).toBe(403);
    const notTeacher = await create(BOB, {
      visibility: 'course',
      group: 'ml101'
    });
    expect(errorOf(notTeacher).message).toBe('You do not teach course ml101');
    expect((await create(ALICE, { name: 'a b' })).statusCode).toBe(400);
    expect((await create(ALICE, {})).statusCode).toBe(201);
    const dup = await create(ALICE, {});
    expect(dup.statusCode).toBe(409);
  });

  it("hides others' private endpoints (404) and shows group/course ones to members", async () => {
    const priv = EndpointSchema.parse(
      (await create(ALICE, { name: 'mine' })).json()
    );
    const grp = EndpointSchema.parse(
      (
        await create(ALICE, { name: 'lab', visibility: 'group', group: 'nlp' })
      ).json()
    );
    const course = EndpointSchema.parse(
      (
        await create(ALICE, {
          name: 'course',
          visibility: 'course',
          group: 'ml101'
        })
      ).json()
    );
    const bobGet = await app.inject({
      url: `${BASE}${Routes.endpoint(priv.id)}`,
      headers: BOB
    });
    expect(bobGet.statusCode).toBe(404);
    expect(errorOf(bobGet).message).toBe(`No endpoint ${priv.id}`);
    const bobList = EndpointListSchema.parse(
      (
        await app.inject({ url: `${BASE}${Routes.endpoints}`, headers: BOB })
      ).json()
    );
    expect(bobList.endpoints.map(e => e.name).sort()).toEqual([
      'course',
      'lab'
    ]);
    const eveList = EndpointListSchema.parse(
      (
        await app.inject({ url: `${BASE}${Routes.endpoints}`, headers: EVE })
      ).json()
    );
    expect(eveList.endpoints).toEqual([]);
    expect(
      (
        await app.inject({
          url: `${BASE}${Routes.endpoint(course.id)}`,
          headers: EVE
        })
      ).statusCode
    ).toBe(404);

    // Visible is not owned: bob may not stop or delete alice's shared endpoint.
    const stop = await app.inject({
      method: 'POST',
      url: `${BASE}${Routes.endpointAction(grp.id, 'stop')}`,
      headers: BOB
    });
    expect(stop.statusCode).toBe(403);
    const del = await app.inject({
      method: 'DELETE',
      url: `${BASE}${Routes.endpoint(priv.id)}`,
      headers: BOB
    });
    expect(del.statusCode).toBe(404);

    // Admins: all=true lists everyone's; others may not.
    const all = await app.inject({
      url: `${BASE}${Routes.endpoints}?all=true`,
      headers: ADMIN
    });
    expect(EndpointListSchema.parse(all.json()).endpoints).toHaveLength(3);
    expect(
      (
        await app.inject({
          url: `${BASE}${Routes.endpoints}?all=true`,
          headers: BOB
        })
      ).statusCode
    ).toBe(403);
  });

  it('stops, starts and deletes (owner)', async () => {
    const ep = EndpointSchema.parse((await create(ALICE, {})).json());
    await f.controller.tick();
    f.provider.run(f.provider.last(), 9100);
    await f.controller.tick();
    const stop = await app.inject({
      method: 'POST',
      url: `${BASE}${Routes.endpointAction(ep.id, 'stop')}`,
      headers: ALICE
    });
    expect(EndpointSchema.parse(stop.json())).toMatchObject({
      state: 'stopped',
      reason: 'Stopped by its owner',
      replicas: [{ state: 'stopped' }]
    });
    expect(f.provider.live()).toEqual([]);
    const start = await app.inject({
      method: 'POST',
      url: `${BASE}${Routes.endpointAction(ep.id, 'start')}`,
      headers: ALICE
    });
    expect(EndpointSchema.parse(start.json()).state).toBe('starting');
    expect(f.provider.live()).toHaveLength(1);
    const del = await app.inject({
      method: 'DELETE',
      url: `${BASE}${Routes.endpoint(ep.id)}`,
      headers: ALICE
    });
    expect(del.statusCode).toBe(204);
    expect(f.provider.live()).toEqual([]);
    expect(
      (
        await app.inject({
          url: `${BASE}${Routes.endpoint(ep.id)}`,
          headers: ALICE
        })
      ).statusCode
    ).toBe(404);
    expect(f.store.auditLog({ user: 'alice' }).map(a => a.action)).toEqual([
      'endpoint.delete',
      'endpoint.start',
      'endpoint.stop',
      'endpoint.create'
    ]);
  });
});
