/** Kernel routes: owner-only answers, the admin list, and the WebSocket channel relay. */
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import {
  ClusterKernelSchema,
  KernelListSchema,
  KernelSpecListSchema
} from '../../src/contract';
import type { BridgeApp } from '../../src/app';
import { BASE, BRIDGE_SCOPE, HUB_USERS, testApp } from './app-fixture';
import { START, kernelFixture } from './kernel-fakes';

HUB_USERS['bob-token'] = {
  kind: 'user',
  name: 'bob',
  admin: false,
  groups: ['ml101'],
  scopes: [BRIDGE_SCOPE, 'access:servers!user=bob']
};
HUB_USERS['admin-token'] = {
  kind: 'user',
  name: 'admin',
  admin: true,
  groups: [],
  scopes: [BRIDGE_SCOPE, 'access:servers!user=admin']
};

const auth = (who: string) => ({ authorization: `token ${who}-token` });

async function setup() {
  const f = kernelFixture();
  const { app } = await testApp({
    config: f.config,
    store: f.store,
    kernels: { service: f.service, events: f.events }
  });
  return { f, app };
}

/** Alice's kernel, running with ipykernel's sockets known. */
async function runningKernel(
  app: BridgeApp,
  f: ReturnType<typeof kernelFixture>
) {
  const res = await app.inject({
    method: 'POST',
    url: `${BASE}/api/v1/kernels`,
    headers: auth('alice'),
    payload: START
  });
  expect(res.statusCode).toBe(201);
  const k = ClusterKernelSchema.parse(res.json());
  const rec = f.service.table.get(k.id)!;
  f.service.table.update({
    ...rec,
    kernel: { ...rec.kernel, state: 'running', node: 'node1' },
    ports: { shell: 1, iopub: 2, stdin: 3, control: 4, hb: 5 }
  });
  return k;
}

/** Opens a channel; resolves the socket once open, or the HTTP status it was refused with. */
function connect(
  app: BridgeApp,
  path: string,
  who: string
): Promise<WebSocket | number> {
  const { port } = app.server.address() as AddressInfo;
  const ws = new WebSocket(`ws://127.0.0.1:${port}${BASE}${path}`, {
    headers: auth(who)
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });
}

describe('kernel routes', () => {
  it('lists specs, own kernels; 404 to others; admins list all running ones', async () => {
    const { f, app } = await setup();
    const specs = await app.inject({
      url: `${BASE}/api/v1/kernels/specs`,
      headers: auth('bob')
    });
    expect(KernelSpecListSchema.parse(specs.json()).specs[0]?.name).toBe(
      'hpcb-cpu-small'
    );
    const k = await runningKernel(app, f);
    const own = await app.inject({
      url: `${BASE}/api/v1/kernels/${k.id}`,
      headers: auth('alice')
    });
    expect(own.json()).toMatchObject({ id: k.id, state: 'running' });
    for (const [method, url] of [
      ['GET', `/api/v1/kernels/${k.id}`],
      ['DELETE', `/api/v1/kernels/${k.id}`],
      ['PUT', `/api/v1/kernels/${k.id}/lease`]
    ] as const) {
      const res = await app.inject({
        method,
        url: BASE + url,
        headers: auth('bob')
      });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({
        error: { code: 'not_found', message: `No kernel ${k.id}` }
      });
    }
    const bobs = await app.inject({
      url: `${BASE}/api/v1/kernels`,
      headers: auth('bob')
    });
    expect(KernelListSchema.parse(bobs.json()).kernels).toEqual([]);
    const notAdmin = await app.inject({
      url: `${BASE}/api/v1/admin/kernels`,
      headers: auth('alice')
    });
    expect(notAdmin.statusCode).toBe(403);
    const all = await app.inject({
      url: `${BASE}/api/v1/admin/kernels`,
      headers: auth('admin')
    });
    expect(KernelListSchema.parse(all.json()).kernels).toMatchObject([
      { owner: 'alice', node: 'node1', slurmId: '100' }
    ]);
    const bad = await app.inject({
      method: 'POST',
      url: `${BASE}/api/v1/kernels`,
      headers: auth('alice'),
      payload: { ...START, jupyterKernelId: '../../etc' }
    });
    expect(bad.statusCode).toBe(400);
    const stopped = await app.inject({
      method: 'DELETE',
      url: `${BASE}/api/v1/kernels/${k.id}`,
      headers: auth('alice')
    });
    expect(stopped.json()).toMatchObject({ state: 'cancelled' });
    expect(f.cluster.actions).toEqual(['alice:cancel:100']);
    await app.close();
  });

  it("relays a channel's bytes both ways for the owner, and refuses others before the upgrade", async () => {
    const { f, app } = await setup();
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const k = await runningKernel(app, f);
      const path = `/api/v1/kernels/${k.id}/channels/shell`;
      expect(await connect(app, path, 'bob')).toBe(404);
      expect(await connect(app, path, 'nobody')).toBe(403);
      expect(f.cluster.sockets).toEqual([]);
      const ws = await connect(app, path, 'alice');
      if (typeof ws === 'number') {
        throw new Error(`refused: ${ws}`);
      }
      expect(f.cluster.sockets).toEqual([
        `alice:/home/alice/.hpc-bridge/kernels/${k.id}/k-1`
      ]);
      const echoed = new Promise<Buffer>(resolve =>
        ws.once('message', data => resolve(data as Buffer))
      );
      ws.send(Buffer.from([0xff, 0, 1, 2]));
      expect([...(await echoed)]).toEqual([0xff, 0, 1, 2]);
      // The kernel's side closing closes the WebSocket.
      const closed = new Promise(resolve => ws.once('close', resolve));
      f.cluster.streams[0]?.destroy();
      await closed;
      // A kernel that does not run yet: 409 before the upgrade.
      const rec = f.service.table.get(k.id)!;
      f.service.table.update({
        ...rec,
        kernel: { ...rec.kernel, state: 'starting' }
      });
      expect(await connect(app, path, 'alice')).toBe(409);
      // Running, but nothing listens on the socket (a restart): 409, not a failure.
      f.service.table.update(rec);
      f.cluster.refuseSockets = true;
      expect(await connect(app, path, 'alice')).toBe(409);
    } finally {
      await app.close();
    }
  });
});
