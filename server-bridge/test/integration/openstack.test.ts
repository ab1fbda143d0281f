/**
 * Cloud endpoints on the stack's real OpenStack (Keystone, Nova, Neutron, Placement,
 * Glance; ./stack/up --with-openstack), through the hub: the bridge's `openstack`
 * provider (application credential) boots servers whose user-data starts llama-server in
 * the fake hypervisor's network namespace. Admin calls (quota, Placement, user_data) use
 * the bridge's own Keystone adapter with the stack's admin password (password auth).
 */
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Secret } from '../../src/config';
import { Keystone } from '../../src/adapters/openstack/keystone';
import {
  EndpointKeyCreatedSchema,
  EndpointSchema,
  ModelCatalogSchema,
  Routes,
  type Endpoint
} from '../../src/contract';
import { BRIDGE_URL, STACK_DIR, bridge, createUserToken } from './stack';

jest.setTimeout(300_000);

const OS_DIR = join(STACK_DIR, 'openstack');
const json = { 'Content-Type': 'application/json' };
const suffix = randomBytes(3).toString('hex');
const created: string[] = [];
/** Everything the bridge answered, for the secret check at the end. */
const answers: string[] = [];
let alice: string;
let admin: Keystone;
let projectId: string;

function read(name: string): string {
  return readFileSync(join(OS_DIR, name), 'utf8').trim();
}

async function adminCall(
  service: string,
  path: string,
  init: { method?: string; body?: unknown } = {}
): Promise<{ status: number; body: any }> {
  const res = await admin.request(service, path, {
    ...init,
    headers: {
      'openstack-api-version':
        service === 'placement' ? 'placement 1.28' : 'compute 2.61'
    }
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text) };
}

async function call(path: string, init: RequestInit = {}) {
  const res = await bridge(path, alice, init);
  answers.push(JSON.stringify(res.body));
  return res;
}

async function create(body: Record<string, unknown>): Promise<Endpoint> {
  const res = await call(Routes.endpoints, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ model: 'tiny-random', ...body })
  });
  expect(res.status).toBe(201);
  const ep = EndpointSchema.parse(res.body);
  created.push(ep.id);
  return ep;
}

async function waitFor(
  id: string,
  done: (ep: Endpoint) => boolean,
  timeoutMs = 240_000
): Promise<Endpoint> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    const res = await call(Routes.endpoint(id));
    if (res.status === 200) {
      const ep = EndpointSchema.parse(res.body);
      last = ep;
      if (done(ep)) {
        return ep;
      }
    }
    await new Promise(r => setTimeout(r, 1000));
  }
  throw new Error(`timed out; last answer: ${JSON.stringify(last)}`);
}

/** The bridge's servers of an endpoint in Nova (admin view of the project). */
async function serversOf(endpointId: string): Promise<any[]> {
  const res = await adminCall(
    'compute',
    `/servers/detail?all_tenants=1&project_id=${projectId}&tags=hpc-bridge`
  );
  expect(res.status).toBe(200);
  return res.body.servers.filter(
    (s: any) => s.metadata.hpcb_endpoint === endpointId
  );
}

async function setInstanceQuota(instances: number): Promise<void> {
  const res = await adminCall('compute', `/os-quota-sets/${projectId}`, {
    method: 'PUT',
    body: { quota_set: { instances } }
  });
  expect(res.status).toBe(200);
}

async function chatThrough(endpointId: string): Promise<string> {
  const res = await call(Routes.endpointKeys(endpointId), {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ name: 'it' })
  });
  expect(res.status).toBe(201);
  const key = EndpointKeyCreatedSchema.parse(res.body).key;
  const openai = new OpenAI({
    apiKey: key,
    baseURL: `${BRIDGE_URL}/v1`,
    maxRetries: 0,
    timeout: 120_000
  });
  const answer = await openai.chat.completions.create({
    model: 'tiny-random',
    messages: [{ role: 'user', content: 'Hello' }],
    max_tokens: 8
  });
  return answer.choices[0]?.message.content ?? '';
}

beforeAll(async () => {
  if (
    !existsSync(join(OS_DIR, 'enabled')) ||
    !existsSync(join(OS_DIR, 'admin.json'))
  ) {
    throw new Error(
      'OpenStack is not enabled in the stack: run ./stack/up --with-openstack (these tests need the real cloud)'
    );
  }
  const a = JSON.parse(readFileSync(join(OS_DIR, 'admin.json'), 'utf8'));
  admin = new Keystone({
    cloud: 'stack admin',
    authUrl: a.authUrl,
    region: 'RegionOne',
    credentials: {
      password: {
        username: a.username,
        password: new Secret(a.password, 'admin.json'),
        projectName: a.projectName,
        userDomainName: a.userDomainName,
        projectDomainName: a.projectDomainName
      }
    }
  });
  projectId = JSON.parse(
    readFileSync(join(OS_DIR, 'cloud.json'), 'utf8')
  ).projectId;
  alice = await createUserToken('alice');
  const catalog = ModelCatalogSchema.parse(
    (await call(Routes.modelCatalog)).body
  );
  if (!catalog.providers.some(p => p.name === 'openstack')) {
    throw new Error(
      'The bridge has no openstack provider: render stack/conf/bridge-openstack.yaml into its config'
    );
  }
});

afterAll(async () => {
  for (const id of created) {
    await bridge(Routes.endpoint(id), alice, { method: 'DELETE' });
  }
});

describe('the openstack provider on the stack cloud', () => {
  it('logs in with the bridge user password too (Keystone password auth)', async () => {
    const k = new Keystone({
      cloud: 'demo',
      authUrl: 'http://127.0.0.1:5000/v3',
      region: 'RegionOne',
      credentials: {
        password: {
          username: 'hpc-bridge',
          password: new Secret(read('bridge.password'), 'file'),
          projectName: 'hpc-demo',
          userDomainName: 'Default',
          projectDomainName: 'Default'
        }
      }
    });
    expect(await k.projectId()).toBe(projectId);
    expect(await k.endpoint('compute')).toMatch(
      /^http:\/\/127\.0\.0\.1:8774\//
    );
  });

  it('offers the cloud with its GPU flavors and quota from Nova', async () => {
    const catalog = ModelCatalogSchema.parse(
      (await call(Routes.modelCatalog)).body
    );
    const os = catalog.providers.find(p => p.name === 'openstack');
    expect(os?.problem).toBeUndefined();
    expect(os?.flavors).toEqual(
      expect.arrayContaining([
        {
          name: 'g1.gpu',
          gpus: 1,
          vcpus: expect.any(Number),
          ramMB: expect.any(Number)
        },
        {
          name: 'g2.gpu',
          gpus: 2,
          vcpus: expect.any(Number),
          ramMB: expect.any(Number)
        }
      ])
    );
    expect(os?.quota?.instances.limit).toBeGreaterThan(0);
    expect(
      catalog.models.find(m => m.name === 'tiny-random')?.providers
    ).toContain('openstack');
  });

  it('serves an endpoint from a g1.gpu server (VGPU allocated in Placement) and deletes it on stop', async () => {
    const ep = await create({
      name: `os-${suffix}`,
      provider: 'openstack',
      resources: { gpus: 1 }
    });
    const ready = await waitFor(
      ep.id,
      e => e.state === 'ready' || e.state === 'failed'
    );
    expect(ready.state).toBe('ready');
    const replica = ready.replicas.find(r => r.state === 'ready');
    expect(replica).toMatchObject({
      provider: 'openstack',
      where: expect.stringMatching(/^cloud server hpcb-/)
    });
    expect(replica?.address).toMatch(/^10\.77\.0\.\d+:8080$/);

    const [server] = await serversOf(ep.id);
    expect(server).toMatchObject({
      status: 'ACTIVE',
      flavor: { original_name: 'g1.gpu' },
      tags: ['hpc-bridge']
    });
    expect(server.metadata).toMatchObject({
      hpcb_endpoint: ep.id,
      hpcb_owner: 'alice'
    });
    const alloc = await adminCall('placement', `/allocations/${server.id}`);
    const resources = Object.values(alloc.body.allocations).map(
      (a: any) => a.resources
    );
    expect(resources).toContainEqual({ VGPU: 1 });

    expect((await chatThrough(ep.id)).length).toBeGreaterThan(0);

    const stopped = await call(Routes.endpointAction(ep.id, 'stop'), {
      method: 'POST'
    });
    expect(stopped.status).toBe(200);
    const after = await adminCall('compute', `/servers/${server.id}`);
    expect([404, 200]).toContain(after.status);
    const deadline = Date.now() + 60_000;
    while ((await serversOf(ep.id)).length > 0 && Date.now() < deadline) {
      await new Promise(r => setTimeout(r, 1000));
    }
    expect(await serversOf(ep.id)).toEqual([]);
  });

  it('shows a clear quota state when the project may run no more instances', async () => {
    await setInstanceQuota(1);
    try {
      const first = await create({
        name: `os-one-${suffix}`,
        provider: 'openstack',
        resources: { gpus: 0 }
      });
      await waitFor(
        first.id,
        e => e.replicas.some(r => r.ref !== null),
        60_000
      );
      const ep = await create({
        name: `os-quota-${suffix}`,
        provider: 'openstack',
        resources: { gpus: 1 }
      });
      const seen = await waitFor(ep.id, e =>
        e.replicas.some(r => /quota is used up/.test(r.reason ?? ''))
      );
      expect(
        seen.replicas.find(r => /quota/.test(r.reason ?? ''))?.reason
      ).toMatch(
        /^could not start: The cloud project's quota is used up: Quota exceeded for instances/
      );
      await call(Routes.endpointAction(ep.id, 'stop'), { method: 'POST' });
      await call(Routes.endpointAction(first.id, 'stop'), { method: 'POST' });
      expect(await serversOf(ep.id)).toEqual([]);
    } finally {
      await setInstanceQuota(10);
    }
  });

  it('falls back to the local provider when the cloud has no free GPU ("No valid host")', async () => {
    const big = await create({
      name: `os-big-${suffix}`,
      provider: 'openstack',
      resources: { gpus: 2 }
    });
    await waitFor(big.id, e => e.state === 'ready' || e.state === 'failed');
    const ep = await create({
      name: `os-fb-${suffix}`,
      provider: 'openstack',
      fallback: 'local',
      resources: { gpus: 1 }
    });
    const ready = await waitFor(
      ep.id,
      e => e.state === 'ready' || e.state === 'failed'
    );
    expect(ready.state).toBe('ready');
    expect(ready.fallbackReason).toMatch(
      /^The openstack provider could not place a replica \(The cloud has no free GPU of this kind right now .*No valid host was found.*\); it runs on local instead$/
    );
    expect(ready.replicas.find(r => r.state === 'ready')?.provider).toBe(
      'local'
    );
    expect(
      ready.replicas.find(r => r.provider === 'openstack')?.reason
    ).toMatch(/^Moved to local: The cloud has no free GPU/);
    expect((await chatThrough(ep.id)).length).toBeGreaterThan(0);
    expect(await serversOf(ep.id)).toEqual([]);
    await call(Routes.endpointAction(big.id, 'stop'), { method: 'POST' });
    await call(Routes.endpointAction(ep.id, 'stop'), { method: 'POST' });
  });

  it('leaves no orphan when the bridge is killed while a server boots, and still gets ready', async () => {
    const pidFile = join(STACK_DIR, 'run', 'bridge.pid');
    const ep = await create({
      name: `os-kill-${suffix}`,
      provider: 'openstack',
      resources: { gpus: 1 }
    });
    await waitFor(ep.id, e => e.replicas.length > 0, 30_000);
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
    // The hub starts the bridge again; it reconciles with Nova first.
    const ready = await waitFor(
      ep.id,
      e => e.state === 'ready' || e.state === 'failed',
      240_000
    );
    expect(ready.state).toBe('ready');
    const servers = await serversOf(ep.id);
    expect(servers).toHaveLength(1);
    expect(servers[0].metadata.hpcb_replica).toBe(
      ready.replicas.find(r => r.state === 'ready')?.id
    );

    // The secrets: app credential, password, the upstream key in the user-data.
    const userData = await adminCall('compute', `/servers/${servers[0].id}`);
    const script = Buffer.from(
      userData.body.server['OS-EXT-SRV-ATTR:user_data'],
      'base64'
    ).toString('utf8');
    const upstreamKey = /--api-key (\S+)/.exec(script)?.[1] ?? '';
    expect(upstreamKey.length).toBeGreaterThanOrEqual(16);
    const log = readFileSync(join(STACK_DIR, 'log', 'bridge.log'), 'utf8');
    const catalog = JSON.stringify((await call(Routes.modelCatalog)).body);
    for (const secret of [
      read('appcred.secret'),
      read('bridge.password'),
      upstreamKey
    ]) {
      expect(log.includes(secret)).toBe(false);
      expect(catalog.includes(secret)).toBe(false);
      expect(answers.some(a => a.includes(secret))).toBe(false);
    }
    await call(Routes.endpointAction(ep.id, 'stop'), { method: 'POST' });
    expect(await serversOf(ep.id)).toEqual([]);
  });
});
