/**
 * Cloud endpoints on the stack's real OpenStack (Keystone, Nova, Neutron, Placement,
 * Glance; ./stack/up --with-openstack), through the hub: the bridge's `openstack`
 * provider (application credential) boots servers whose user-data starts llama-server in
 * the fake hypervisor's network namespace. Admin calls (quota, Placement, user_data) use
 * the bridge's own Keystone adapter with the stack's admin password; servers the bridge
 * must not own (a GPU holder, a planted orphan) are made as the project's user. Every test
 * deletes what it made, so the cloud is empty again after a run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Secret } from '../../src/config';
import { z } from 'zod';
import {
  Keystone,
  type KeystoneCredentials
} from '../../src/adapters/openstack/keystone';
import { Nova } from '../../src/adapters/openstack/nova';
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
/** Fernet tokens (Keystone's default) start like this. */
const KEYSTONE_TOKEN = /gAAAAA[A-Za-z0-9_-]{40,}/;
let alice: string;
let admin: Keystone;
let projectId: string;

/** The parts of a Nova server (admin view, microversion 2.61) the tests look at. */
interface IServer {
  id: string;
  status: string;
  flavor: { original_name: string };
  tags: string[];
  metadata: Record<string, string>;
  'OS-EXT-SRV-ATTR:user_data'?: string | null;
}

function read(name: string): string {
  return readFileSync(join(OS_DIR, name), 'utf8').trim();
}

async function adminCall<T>(
  service: string,
  path: string,
  init: { method?: string; body?: unknown } = {}
): Promise<{ status: number; body: T }> {
  const res = await admin.request(service, path, {
    ...init,
    headers: {
      'openstack-api-version':
        service === 'placement' ? 'placement 1.28' : 'compute 2.61'
    }
  });
  const text = await res.text();
  return {
    status: res.status,
    body: (text === '' ? null : JSON.parse(text)) as T
  };
}

/** Keystone as the bridge's own project user (the stack's hpc-bridge account). */
function bridgeUser(credentials: KeystoneCredentials): Keystone {
  return new Keystone({
    cloud: 'demo',
    authUrl: 'http://127.0.0.1:5000/v3',
    region: 'RegionOne',
    credentials
  });
}

const bridgePassword = (): KeystoneCredentials => ({
  password: {
    username: 'hpc-bridge',
    password: new Secret(read('bridge.password'), 'file'),
    projectName: 'hpc-demo',
    userDomainName: 'Default',
    projectDomainName: 'Default'
  }
});

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

async function stop(id: string): Promise<void> {
  const res = await call(Routes.endpointAction(id, 'stop'), {
    method: 'POST'
  });
  expect(res.status).toBe(200);
}

/** Polls until `check` gives a value (the stack's speed decides, not a fixed sleep). */
async function poll<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 240_000
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise(r => setTimeout(r, 500));
  }
}

async function waitFor(
  id: string,
  done: (ep: Endpoint) => boolean,
  timeoutMs = 240_000
): Promise<Endpoint> {
  let last: unknown = null;
  try {
    return await poll(
      `endpoint ${id}`,
      async () => {
        const res = await call(Routes.endpoint(id));
        if (res.status !== 200) {
          return undefined;
        }
        const ep = EndpointSchema.parse(res.body);
        last = ep;
        return done(ep) ? ep : undefined;
      },
      timeoutMs
    );
  } catch (e) {
    throw new Error(
      `${(e as Error).message}; last answer: ${JSON.stringify(last)}`
    );
  }
}

/** The bridge's servers of an endpoint in Nova (admin view of the project). */
async function serversOf(endpointId: string): Promise<IServer[]> {
  const res = await adminCall<{ servers: IServer[] }>(
    'compute',
    `/servers/detail?all_tenants=1&project_id=${projectId}&tags=hpc-bridge`
  );
  expect(res.status).toBe(200);
  return res.body.servers.filter(s => s.metadata.hpcb_endpoint === endpointId);
}

/** Nova deletes in the background: waits until the endpoint has no server left. */
async function expectNoServers(endpointId: string): Promise<void> {
  await poll(`the servers of ${endpointId} to be deleted`, async () =>
    (await serversOf(endpointId)).length === 0 ? true : undefined
  );
}

async function setInstanceQuota(instances: number): Promise<void> {
  const res = await adminCall('compute', `/os-quota-sets/${projectId}`, {
    method: 'PUT',
    body: { quota_set: { instances } }
  });
  expect(res.status).toBe(200);
}

/** Asks the endpoint through the gateway with a new key of its own (openai client). */
async function chatThrough(endpointId: string): Promise<void> {
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
  // Random weights: the text may be empty, the tokens it generated are not.
  expect(answer.model).toBe('tiny-random');
  expect(typeof answer.choices[0]?.message.content).toBe('string');
  expect(answer.usage?.completion_tokens).toBeGreaterThan(0);
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
  const a = z
    .object({
      authUrl: z.string(),
      username: z.string(),
      password: z.string(),
      projectName: z.string(),
      userDomainName: z.string(),
      projectDomainName: z.string()
    })
    .parse(JSON.parse(read('admin.json')));
  admin = new Keystone({
    cloud: 'stack admin',
    authUrl: a.authUrl,
    region: 'RegionOne',
    credentials: {
      password: { ...a, password: new Secret(a.password, 'admin.json') }
    }
  });
  projectId = z
    .object({ projectId: z.string() })
    .parse(JSON.parse(read('cloud.json'))).projectId;
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
  // Whatever a failed test left in Nova: the next run starts on an empty cloud.
  if (admin !== undefined) {
    for (const id of created) {
      for (const s of await serversOf(id)) {
        await adminCall('compute', `/servers/${s.id}`, { method: 'DELETE' });
      }
    }
  }
});

describe('the openstack provider on the stack cloud', () => {
  it('logs in with the application credential (the stack config) and with a password', async () => {
    const appcred = bridgeUser({
      applicationCredential: {
        id: read('appcred.id'),
        secret: new Secret(read('appcred.secret'), 'file')
      }
    });
    const password = bridgeUser(bridgePassword());
    for (const k of [appcred, password]) {
      expect(await k.projectId()).toBe(projectId);
      expect(await k.endpoint('compute')).toMatch(
        /^http:\/\/127\.0\.0\.1:8774\//
      );
    }
    const wrong = bridgeUser({
      applicationCredential: {
        id: read('appcred.id'),
        secret: new Secret('not-the-secret', 'test')
      }
    });
    await expect(wrong.projectId()).rejects.toThrow(
      /^The bridge cannot log in to the cloud demo .*ask your admin/
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
      tags: ['hpc-bridge'],
      metadata: {
        hpcb_endpoint: ep.id,
        hpcb_replica: replica?.id,
        hpcb_owner: 'alice'
      }
    });
    const alloc = await adminCall<{
      allocations: Record<string, { resources: Record<string, number> }>;
    }>('placement', `/allocations/${server?.id}`);
    expect(
      Object.values(alloc.body.allocations).map(a => a.resources)
    ).toContainEqual({ VGPU: 1 });

    await chatThrough(ep.id);

    // The server vanishes behind the bridge's back: the endpoint gets a new one.
    await adminCall('compute', `/servers/${server?.id}`, { method: 'DELETE' });
    const again = await waitFor(ep.id, e =>
      e.replicas.some(r => r.state === 'ready' && r.id !== replica?.id)
    );
    const successor = again.replicas.find(r => r.state === 'ready');
    expect(successor?.provider).toBe('openstack');
    const replaced = await serversOf(ep.id);
    expect(replaced.map(s => s.metadata.hpcb_replica)).toEqual([successor?.id]);
    await chatThrough(ep.id);

    await stop(ep.id);
    await expectNoServers(ep.id);
    const gone = await adminCall('compute', `/servers/${server?.id}`);
    expect(gone.status).toBe(404);
  });

  it('shows a clear quota state when the project may run no more instances', async () => {
    await setInstanceQuota(1);
    try {
      const first = await create({
        name: `os-one-${suffix}`,
        provider: 'openstack',
        resources: { gpus: 0 }
      });
      await poll('the first server', async () =>
        (await serversOf(first.id)).length > 0 ? true : undefined
      );
      const ep = await create({
        name: `os-quota-${suffix}`,
        provider: 'openstack',
        resources: { gpus: 1 }
      });
      const failed = await waitFor(ep.id, e => e.state === 'failed');
      // No fallback: failed at once, the cloud's sentence first (no pointless retries).
      expect(failed.reason).toMatch(
        /^The cloud project's quota is used up: Quota exceeded for instances.* Start it again when there is room, or give it a fallback provider\.$/
      );
      expect(failed.restarts).toBe(0);
      expect(failed.replicas.map(r => r.reason)).toContainEqual(
        expect.stringMatching(
          /^The cloud project's quota is used up: Quota exceeded for instances/
        )
      );
      expect(await serversOf(ep.id)).toEqual([]);
      await stop(first.id);
      await expectNoServers(first.id);
    } finally {
      await setInstanceQuota(10);
    }
  });

  it('falls back to the local provider when the cloud has no free GPU ("No valid host")', async () => {
    // Someone else in the project holds both GPUs: a server without the bridge's tag,
    // which the bridge's reconciliation must leave alone.
    const other = new Nova(bridgeUser(bridgePassword()));
    const holder = await other.createServer({
      name: `gpu-holder-${suffix}`,
      flavorId: await other.flavorId('g2.gpu'),
      imageId: await other.imageId('hpc-serving'),
      networkId: await other.networkId('hpc-cloud-net'),
      securityGroups: [],
      userData: '# nothing to run\n',
      metadata: {},
      tags: []
    });
    try {
      const held = await poll('the GPU holder to boot', async () => {
        const s = await other.server(holder);
        return s?.status === 'BUILD' ? undefined : s?.status;
      });
      expect(held).toBe('ACTIVE');

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
      expect(ready.url).toBe(ep.url);
      expect(ready.fallback).toBe('local');
      expect(ready.fallbackReason).toMatch(
        /^The cloud has no free GPU of this kind right now \(.*No valid host was found/
      );
      expect(ready.replicas.find(r => r.state === 'ready')?.provider).toBe(
        'local'
      );
      expect(
        ready.replicas.find(r => r.provider === 'openstack')?.reason
      ).toMatch(/^Moved to local: The cloud has no free GPU/);
      await chatThrough(ep.id);
      await expectNoServers(ep.id);
      expect((await other.server(holder))?.status).toBe('ACTIVE');
      await stop(ep.id);
    } finally {
      await other.deleteServer(holder);
      await poll('the GPU holder to be deleted', async () =>
        (await other.server(holder)) === null ? true : undefined
      );
    }
  });

  it('leaves no orphan when the bridge is killed while a server boots, and still gets ready', async () => {
    const pidFile = join(STACK_DIR, 'run', 'bridge.pid');
    const ep = await create({
      name: `os-kill-${suffix}`,
      provider: 'openstack',
      resources: { gpus: 1 }
    });
    await poll('the endpoint server in Nova', async () =>
      (await serversOf(ep.id)).length > 0 ? true : undefined
    );
    // A tagged server no endpoint owns (its bridge died before it wrote the record).
    const other = new Nova(bridgeUser(bridgePassword()));
    const orphan = await other.createServer({
      name: `hpcb-orphan-${suffix}`,
      flavorId: await other.flavorId('m1.small'),
      imageId: await other.imageId('hpc-serving'),
      networkId: await other.networkId('hpc-cloud-net'),
      securityGroups: [],
      userData: '# nothing to run\n',
      metadata: { hpcb_endpoint: `gone${suffix}`, hpcb_owner: 'alice' },
      tags: ['hpc-bridge']
    });
    const killed = Number(readFileSync(pidFile, 'utf8').trim());
    process.kill(killed, 'SIGKILL');
    // The hub starts the bridge again; it reconciles with Nova first.
    await poll('the hub to restart the bridge', async () => {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      return pid !== killed && (await bridge(Routes.version)).status === 200
        ? true
        : undefined;
    });
    const ready = await waitFor(
      ep.id,
      e => e.state === 'ready' || e.state === 'failed'
    );
    expect(ready.state).toBe('ready');
    await poll('the orphan server to be deleted', async () =>
      (await other.server(orphan)) === null ? true : undefined
    );
    const servers = await serversOf(ep.id);
    expect(servers).toHaveLength(1);
    expect(servers[0]?.metadata.hpcb_replica).toBe(
      ready.replicas.find(r => r.state === 'ready')?.id
    );
    await chatThrough(ep.id);

    // The secrets: app credential, password, the upstream key in the user-data, tokens.
    const full = await adminCall<{ server: IServer }>(
      'compute',
      `/servers/${servers[0]?.id}`
    );
    const script = Buffer.from(
      full.body.server['OS-EXT-SRV-ATTR:user_data'] ?? '',
      'base64'
    ).toString('utf8');
    const upstreamKey =
      /LLAMA_API_KEY=([A-Za-z0-9_-]+)/.exec(script)?.[1] ?? '';
    expect(upstreamKey.length).toBeGreaterThanOrEqual(16);
    const logs = ['bridge.log', 'jupyterhub.log'].map(f =>
      readFileSync(join(STACK_DIR, 'log', f), 'utf8')
    );
    const catalog = JSON.stringify((await call(Routes.modelCatalog)).body);
    const seen = [...logs, catalog, ...answers];
    for (const secret of [
      read('appcred.secret'),
      read('bridge.password'),
      upstreamKey
    ]) {
      expect(seen.filter(text => text.includes(secret))).toEqual([]);
    }
    expect(seen.filter(text => KEYSTONE_TOKEN.test(text))).toEqual([]);
    await stop(ep.id);
    await expectNoServers(ep.id);
  });
});
