/**
 * Faults of the hub. The hub process crashes (SIGKILL) and leaves its proxy and the
 * bridge running: the bridge cannot check tokens and says so with a 503 (never a 500),
 * public routes still answer; a new hub (stack/ctl start jupyterhub) restarts its
 * managed bridge and the same tokens work again. The proxy crashes: the hub restarts it,
 * the bridge itself never noticed.
 */
import { Routes } from '../../src/contract';
import { bridge, createUserToken } from '../integration/stack';
import { ctl, duringFault, errorOf, stackOk } from './fault';

jest.setTimeout(600_000);

const DIRECT = 'http://127.0.0.1:8765/services/hpc-bridge';
let alice: string;
let fresh: string;

beforeAll(async () => {
  await stackOk();
  [alice, fresh] = await Promise.all([
    createUserToken('alice'),
    createUserToken('alice')
  ]);
  expect((await bridge(Routes.jobs, alice)).status).toBe(200);
});

it('answers 503 for tokens it cannot check while the hub is down, and recovers with the new hub', async () => {
  await duringFault('jupyterhub', 'kill9', async () => {
    // A token the bridge has not seen yet (nothing cached): the hub must decide.
    const res = await bridge(Routes.jobs, fresh);
    const { status, error } = errorOf(res);
    expect({ status, code: error.code }).toEqual({
      status: 503,
      code: 'upstream_unavailable'
    });
    expect(error.message).toMatch(/hub/i);
    expect(error.message).toMatch(/\.$/);
    // Without a token the answer does not depend on the hub.
    expect((await bridge(Routes.jobs)).status).toBe(401);
    expect((await bridge(Routes.version)).status).toBe(200);
  });
  expect((await bridge(Routes.jobs, fresh)).status).toBe(200);
  expect((await bridge(Routes.jobs, alice)).status).toBe(200);
});

it('keeps the bridge running when the proxy dies; the hub restarts the proxy', async () => {
  const bridgePid = await ctl('pid', 'bridge');
  await duringFault('configurable-http-proxy', 'kill9', async () => {
    const direct = await fetch(`${DIRECT}${Routes.jobs}`, {
      headers: { Authorization: `token ${alice}` }
    });
    // Read to its end: an unread body keeps its connection to the bridge busy.
    await direct.text();
    expect(direct.status).toBe(200);
  });
  expect(await ctl('pid', 'bridge')).toBe(bridgePid);
  expect((await bridge(Routes.jobs, alice)).status).toBe(200);
});
