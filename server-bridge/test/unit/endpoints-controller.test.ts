import { DomainError } from '../../src/domain-error';
import { statusOfError } from '../../src/errors';
import {
  controllerFixture,
  createEndpoint,
  FakeProvider,
  type IControllerFixture
} from './endpoints-fakes';

const MINUTE = 60_000;

async function ready(f: IControllerFixture, port = 9001) {
  await f.controller.tick();
  f.provider.run(
    f.provider.last(),
    port,
    new Date(f.clock.now() + 60 * MINUTE)
  );
  await f.controller.tick();
}

function state(f: IControllerFixture, id = 'e1') {
  return f.table.get(id)?.state;
}

describe('EndpointController: lifecycle', () => {
  it('goes pending → starting → ready, rendering the recipe for the provider', async () => {
    const f = controllerFixture();
    createEndpoint(f);
    expect(state(f)).toBe('pending');
    await f.controller.tick();
    expect(state(f)).toBe('starting');
    const r = f.provider.last();
    const key = r.spec.upstreamKey;
    expect(r.spec.argv).toEqual([
      '/opt/llama/bin/llama-server',
      '-m',
      '/models/tiny.gguf',
      '--host',
      '{host}',
      '--port',
      '{port}',
      '-t',
      '2'
    ]);
    expect(r.spec.keyEnv).toBe('LLAMA_API_KEY');
    expect(key).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(r.spec.owner).toBe('alice');
    expect(r.spec.resources.timeMinutes).toBe(60);

    f.provider.run(r, 9001);
    f.health.down.add(9001);
    await f.controller.tick();
    expect(state(f)).toBe('starting');
    f.health.down.delete(9001);
    await f.controller.tick();
    expect(state(f)).toBe('ready');
    const up = await f.controller.upstream('e1', new AbortController().signal);
    expect(up).toEqual({
      baseUrl: 'http://127.0.0.1:9001',
      apiKey: key,
      replicaId: r.spec.replicaId
    });
    expect(f.health.calls.at(-1)).toBe('http://127.0.0.1:9001/health');
    expect(f.controller.modelOf('e1')).toEqual({
      name: 'tiny-random',
      accepts: ['tiny-random', 'chat-e1']
    });
    expect(f.controller.modelOf('nope')).toBeNull();
  });

  it('shows idle after a quiet minute and ready again after a request', async () => {
    const f = controllerFixture();
    createEndpoint(f);
    await ready(f);
    f.clock.advance(2 * MINUTE);
    await f.controller.tick();
    expect(state(f)).toBe('idle');
    f.controller.touched('e1');
    await f.controller.tick();
    expect(state(f)).toBe('ready');
    expect(f.table.get('e1')?.lastRequestAt).toBe(
      new Date(f.clock.now()).toISOString()
    );
  });

  it('holds a request while starting and answers it once a replica is ready', async () => {
    const f = controllerFixture();
    createEndpoint(f);
    await f.controller.tick();
    let answered: unknown = null;
    const pending = f.controller
      .upstream('e1', new AbortController().signal)
      .then(u => (answered = u));
    await f.controller.tick();
    expect(answered).toBeNull();
    f.provider.run(f.provider.last(), 9002);
    await f.controller.tick();
    await pending;
    expect(answered).toMatchObject({ baseUrl: 'http://127.0.0.1:9002' });
  });

  it("answers a held request once its replica is ready, without waiting for the loop's tick", async () => {
    const HOUR = 3_600_000;
    const f = controllerFixture(undefined, undefined, undefined, HOUR);
    createEndpoint(f);
    await f.controller.tick();
    await f.controller.start();
    try {
      const held = f.controller.upstream('e1', new AbortController().signal);
      f.provider.run(f.provider.last(), 9004);
      // The loop's next tick is an hour away: only the probes of a held request see it.
      await expect(held).resolves.toMatchObject({
        baseUrl: 'http://127.0.0.1:9004'
      });
    } finally {
      await f.controller.stop();
    }
  });

  it('rejects a held request with 503 after holdSeconds, and on abort', async () => {
    const f = controllerFixture();
    createEndpoint(f);
    await f.controller.tick();
    const held = f.controller.upstream('e1', new AbortController().signal);
    f.clock.advance(121_000);
    await f.controller.tick();
    await expect(held).rejects.toMatchObject({
      code: 'upstream_unavailable',
      message: expect.stringMatching(/did not become ready within 120 s/)
    });
    const ac = new AbortController();
    const aborted = f.controller.upstream('e1', ac.signal);
    ac.abort();
    await expect(aborted).rejects.toBeInstanceOf(DomainError);
  });

  it('stop refuses requests and stops replicas; start serves again', async () => {
    const f = controllerFixture();
    createEndpoint(f);
    await ready(f);
    const first = f.provider.last();
    await f.controller.stopEndpoint('e1');
    expect(state(f)).toBe('stopped');
    expect(first.stopped).toBe(true);
    await expect(
      f.controller.upstream('e1', new AbortController().signal)
    ).rejects.toMatchObject({
      code: 'upstream_unavailable',
      message: expect.stringMatching(/stopped/)
    });
    await f.controller.tick();
    expect(f.provider.live()).toHaveLength(0);

    await f.controller.startEndpoint('e1');
    await ready(f, 9003);
    expect(state(f)).toBe('ready');
    expect(f.provider.live()).toHaveLength(1);
  });

  it('delete stops the replicas and forgets the endpoint', async () => {
    const f = controllerFixture();
    createEndpoint(f);
    await ready(f);
    await f.controller.deleteEndpoint('e1');
    expect(f.table.get('e1')).toBeUndefined();
    expect(f.provider.live()).toHaveLength(0);
    await expect(
      f.controller.upstream('e1', new AbortController().signal)
    ).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('EndpointController: failures and restarts', () => {
  it('replaces a replica that is gone, with a visible reason, and keeps a held request', async () => {
    const f = controllerFixture();
    createEndpoint(f);
    await ready(f);
    const first = f.provider.last();
    first.status = { state: 'failed', reason: 'job 12 NODE_FAIL' };
    await f.controller.tick();
    const held = f.controller.upstream('e1', new AbortController().signal);
    const ep = f.table.get('e1');
    expect(ep?.restarts).toBe(1);
    expect(ep?.reason).toMatch(
      /failed and is being replaced \(restart 1\): job 12 NODE_FAIL/
    );
    const second = f.provider.last();
    expect(second).not.toBe(first);
    f.provider.run(second, 9005);
    await f.controller.tick();
    await expect(held).resolves.toMatchObject({
      baseUrl: 'http://127.0.0.1:9005',
      replicaId: second.spec.replicaId
    });
    const replicas = f.table.replicas('e1');
    expect(replicas.map(r => r.state)).toEqual(['failed', 'ready']);
    expect(replicas[0]?.reason).toBe('job 12 NODE_FAIL');
  });

  it('gives up after maxRestarts failures in a row: failed, with the last reason', async () => {
    const f = controllerFixture();
    createEndpoint(f);
    for (let i = 0; i < 3; i++) {
      await f.controller.tick();
      f.provider.last().status = { state: 'failed', reason: `exit ${i}` };
    }
    await f.controller.tick();
    const ep = f.table.get('e1');
    expect(ep?.state).toBe('failed');
    expect(ep?.reason).toMatch(
      /failed 3 times in a row .* at most 2 times.*last: exit 2/
    );
    expect(f.provider.replicas.size).toBe(3);
    await f.controller.tick();
    expect(f.provider.replicas.size).toBe(3);
    await expect(
      f.controller.upstream('e1', new AbortController().signal)
    ).rejects.toMatchObject({
      code: 'upstream_unavailable',
      message: expect.stringMatching(/failed: Replica failed 3 times/)
    });
    await f.controller.startEndpoint('e1');
    expect(f.table.get('e1')).toMatchObject({ restarts: 0, failuresInRow: 0 });
    expect(f.provider.replicas.size).toBe(4);
  });

  it('counts failures in a row only: a replica that became ready resets the bound', async () => {
    const f = controllerFixture();
    createEndpoint(f);
    for (let i = 0; i < 4; i++) {
      await ready(f, 9100 + i);
      expect(state(f)).toBe('ready');
      f.provider.last().status = { state: 'failed', reason: 'crash' };
    }
    await f.controller.tick();
    expect(f.table.get('e1')).toMatchObject({ state: 'starting', restarts: 4 });
  });

  it('replaces a ready replica after healthFailures failed checks in a row', async () => {
    const f = controllerFixture();
    createEndpoint(f);
    await ready(f, 9010);
    f.health.down.add(9010);
    for (let i = 0; i < 2; i++) {
      f.clock.advance(5000);
      await f.controller.tick();
      expect(f.provider.last().stopped).toBe(false);
    }
    f.clock.advance(5000);
    await f.controller.tick();
    expect(f.provider.replicas.size).toBe(2);
    expect(f.table.replicas('e1')[0]).toMatchObject({
      state: 'failed',
      reason: '3 health checks failed in a row (ECONNREFUSED)'
    });
  });

  it('after upstreamFailed, routes nowhere until a check passes; a failed check replaces it at once', async () => {
    const f = controllerFixture();
    createEndpoint(f);
    await ready(f, 9020);
    const first = f.provider.last();
    f.health.down.add(9020);
    f.controller.upstreamFailed('e1', first.spec.replicaId, 'ECONNRESET');
    const retry = f.controller.upstream('e1', new AbortController().signal);
    await f.controller.tick();
    expect(first.stopped).toBe(true);
    expect(f.table.replicas('e1')[0]?.reason).toMatch(
      /requests failed \(ECONNRESET\)/
    );
    f.provider.run(f.provider.last(), 9021);
    await f.controller.tick();
    await expect(retry).resolves.toMatchObject({
      baseUrl: 'http://127.0.0.1:9021'
    });
  });

  it("names the provider's end of a replica that stopped answering (a cancelled job), not the refused connection", async () => {
    const f = controllerFixture();
    createEndpoint(f);
    await ready(f, 9030);
    const first = f.provider.last();
    // The queue the status came from still said running; the provider knows better now.
    f.provider.endedReasons.set(first.spec.replicaId, 'job 41 CANCELLED');
    f.health.down.add(9030);
    f.controller.upstreamFailed('e1', first.spec.replicaId, 'ECONNREFUSED');
    await f.controller.tick();
    expect(f.table.replicas('e1')[0]).toMatchObject({
      state: 'failed',
      reason: 'job 41 CANCELLED'
    });
  });

  it("a start error fails the replica with the provider's message", async () => {
    const f = controllerFixture();
    f.provider.failStart = new Error('at most 4 local replicas run at once');
    createEndpoint(f);
    await f.controller.tick();
    expect(f.table.replicas('e1')[0]).toMatchObject({
      state: 'failed',
      reason: 'could not start: at most 4 local replicas run at once'
    });
  });
});

describe('EndpointController: walltime handover', () => {
  it('starts the next replica before the limit, switches when it is ready, then drains the old one', async () => {
    const f = controllerFixture();
    createEndpoint(f, { timeMinutes: 60 });
    await f.controller.tick();
    const first = f.provider.last();
    const endsAt = f.clock.now() + 60 * MINUTE;
    f.provider.run(first, 9030, new Date(endsAt));
    await f.controller.tick();
    const firstId = first.spec.replicaId;

    f.clock.t = endsAt - 5 * MINUTE - 1000;
    f.controller.touched('e1');
    await f.controller.tick();
    expect(f.provider.replicas.size).toBe(1);

    f.clock.t = endsAt - 5 * MINUTE;
    f.controller.touched('e1');
    await f.controller.tick();
    expect(f.provider.replicas.size).toBe(2);
    const second = f.provider.last();
    const signal = new AbortController().signal;
    // Not ready yet: requests still go to the first replica.
    await expect(f.controller.upstream('e1', signal)).resolves.toMatchObject({
      replicaId: firstId
    });
    f.clock.advance(1000);
    await f.controller.tick();
    expect(f.provider.replicas.size).toBe(2);

    f.provider.run(second, 9031, new Date(f.clock.now() + 60 * MINUTE));
    await f.controller.tick();
    await f.controller.tick();
    await expect(f.controller.upstream('e1', signal)).resolves.toMatchObject({
      replicaId: second.spec.replicaId
    });
    expect(f.table.replicas('e1').map(r => r.state)).toEqual([
      'draining',
      'ready'
    ]);
    expect(first.stopped).toBe(false);
    expect(state(f)).toBe('ready');

    f.clock.advance(30_000);
    await f.controller.tick();
    expect(first.stopped).toBe(true);
    expect(f.provider.events).toEqual([
      `start:${firstId}`,
      `start:${second.spec.replicaId}`,
      `stop:${firstId}`
    ]);
    expect(f.table.get('e1')?.restarts).toBe(0);
  });

  it('gives every replica a fresh key; routes and health checks use each its own', async () => {
    const f = controllerFixture();
    const keys = f.health.keys;
    createEndpoint(f, { timeMinutes: 60 });
    await f.controller.tick();
    const first = f.provider.last();
    const endsAt = f.clock.now() + 60 * MINUTE;
    f.provider.run(first, 9032, new Date(endsAt));
    await f.controller.tick();
    const signal = new AbortController().signal;
    await expect(f.controller.upstream('e1', signal)).resolves.toMatchObject({
      apiKey: first.spec.upstreamKey
    });

    f.clock.t = endsAt - 5 * MINUTE;
    f.controller.touched('e1');
    await f.controller.tick();
    const second = f.provider.last();
    expect(second).not.toBe(first);
    expect(second.spec.upstreamKey).not.toBe(first.spec.upstreamKey);
    f.provider.run(second, 9033, new Date(f.clock.now() + 60 * MINUTE));
    await f.controller.tick();
    await f.controller.tick();
    await expect(f.controller.upstream('e1', signal)).resolves.toEqual({
      baseUrl: 'http://127.0.0.1:9033',
      apiKey: second.spec.upstreamKey,
      replicaId: second.spec.replicaId
    });
    expect(keys).toContain(`9032:${first.spec.upstreamKey}`);
    expect(keys).toContain(`9033:${second.spec.upstreamKey}`);
    expect(keys).not.toContain(`9033:${first.spec.upstreamKey}`);
    // The endpoint holds no key of its own any more.
    expect(f.table.get('e1')?.upstreamKey).toBeNull();
    expect(f.table.replicas('e1').map(r => r.upstreamKey)).toEqual([
      first.spec.upstreamKey,
      second.spec.upstreamKey
    ]);
  });

  it('with a short time limit the lead is half the limit', async () => {
    const f = controllerFixture();
    createEndpoint(f, { timeMinutes: 2 });
    await f.controller.tick();
    const endsAt = f.clock.now() + 2 * MINUTE;
    f.provider.run(f.provider.last(), 9040, new Date(endsAt));
    await f.controller.tick();
    f.clock.t = endsAt - MINUTE - 1;
    f.controller.touched('e1');
    await f.controller.tick();
    expect(f.provider.replicas.size).toBe(1);
    f.clock.t = endsAt - MINUTE;
    await f.controller.tick();
    expect(f.provider.replicas.size).toBe(2);
  });

  it('a replica that reaches its limit is not counted as a failure', async () => {
    const f = controllerFixture();
    createEndpoint(f, { timeMinutes: 2 });
    await f.controller.tick();
    const endsAt = f.clock.now() + 2 * MINUTE;
    const first = f.provider.last();
    f.provider.run(first, 9050, new Date(endsAt));
    await f.controller.tick();
    f.clock.t = endsAt;
    f.controller.touched('e1');
    first.status = { state: 'gone', reason: 'job 5 TIMEOUT' };
    await f.controller.tick();
    expect(f.table.get('e1')).toMatchObject({ restarts: 0, failuresInRow: 0 });
    expect(f.table.replicas('e1')[0]).toMatchObject({
      state: 'stopped',
      reason: 'Reached its time limit'
    });
  });
});

describe('EndpointController: scale to zero', () => {
  it('scales to zero after idleMinutes and wakes on a request, which is held, not failed', async () => {
    const f = controllerFixture();
    createEndpoint(f, { idleMinutes: 10 });
    await ready(f, 9060);
    f.clock.advance(10 * MINUTE - 1000);
    await f.controller.tick();
    expect(state(f)).toBe('idle');
    f.clock.advance(1000);
    await f.controller.tick();
    expect(state(f)).toBe('scaled-to-zero');
    expect(f.table.get('e1')?.reason).toMatch(/No request for 10 minutes/);
    expect(f.provider.live()).toHaveLength(0);
    await f.controller.tick();
    expect(f.provider.replicas.size).toBe(1);

    const held = f.controller.upstream('e1', new AbortController().signal);
    await f.controller.tick();
    expect(f.provider.replicas.size).toBe(2);
    expect(state(f)).toBe('starting');
    f.provider.run(f.provider.last(), 9061);
    await f.controller.tick();
    await expect(held).resolves.toMatchObject({
      baseUrl: 'http://127.0.0.1:9061'
    });
    expect(state(f)).toBe('ready');
  });

  it('requests keep it awake', async () => {
    const f = controllerFixture();
    createEndpoint(f, { idleMinutes: 10 });
    await ready(f, 9070);
    for (let i = 0; i < 5; i++) {
      f.clock.advance(5 * MINUTE);
      f.controller.touched('e1');
      await f.controller.tick();
    }
    expect(state(f)).toBe('ready');
    expect(f.provider.replicas.size).toBe(1);
  });
});

describe('EndpointController: reconcile', () => {
  it('marks replicas the provider lost as stopped, stops unknown ones, health-checks kept ones first', async () => {
    const f = controllerFixture();
    createEndpoint(f);
    createEndpoint(f, { id: 'e2' });
    await f.controller.tick();
    const kept = [...f.provider.replicas.values()].find(
      r => r.spec.endpointId === 'e1'
    );
    const lost = [...f.provider.replicas.values()].find(
      r => r.spec.endpointId === 'e2'
    );
    if (kept === undefined || lost === undefined) {
      throw new Error('expected two replicas');
    }
    f.provider.run(kept, 9080);
    f.provider.run(lost, 9081);
    await f.controller.tick();
    expect(state(f, 'e1')).toBe('ready');
    expect(state(f, 'e2')).toBe('ready');

    // A new bridge process: same store, the provider lost e2's replica and has an orphan.
    const provider = new FakeProvider();
    provider.replicas.set(kept.spec.replicaId, kept);
    await provider.start({
      ...kept.spec,
      replicaId: 'orphan',
      endpointId: 'gone'
    });
    const g = controllerFixture(f.config, f.store, provider);
    g.clock.t = f.clock.t;
    g.health.down.add(9080);
    await g.controller.reconcile();
    expect(provider.replicas.get('orphan')?.stopped).toBe(true);
    expect(g.table.replicas('e2').at(-1)).toMatchObject({
      state: 'stopped',
      reason: 'Gone while the bridge was not running'
    });
    await g.controller.tick();
    // e1's kept replica failed its first check: replaced at once.
    expect(kept.stopped).toBe(true);
    expect(g.table.replicas('e1')[0]?.reason).toMatch(/bridge restarted/);
  });
});

describe('EndpointController: replicas per user on the local provider', () => {
  async function refusal(p: Promise<unknown> | (() => unknown)) {
    try {
      await (typeof p === 'function' ? p() : p);
    } catch (e) {
      return e as DomainError;
    }
    throw new Error('not refused');
  }

  it('refuses a create beyond maxReplicasPerUser with 429; other users are not affected', async () => {
    const f = controllerFixture();
    createEndpoint(f, { id: 'e1' });
    createEndpoint(f, { id: 'e2' });
    const e = await refusal(() => createEndpoint(f, { id: 'e3' }));
    expect(e).toBeInstanceOf(DomainError);
    expect(statusOfError(e)).toBe(429);
    expect(e.message).toBe(
      'At most 2 endpoints of one user run on the local provider at once (maxReplicasPerUser); chat-e1, chat-e2 run now: stop one first or choose another provider'
    );
    expect(f.table.get('e3')).toBeUndefined();
    createEndpoint(f, { id: 'e4', owner: 'bob' });
    expect(f.table.get('e4')?.state).toBe('pending');
  });

  it('refuses a start beyond the cap, and allows it once another endpoint stopped', async () => {
    const f = controllerFixture();
    createEndpoint(f, { id: 'e1' });
    createEndpoint(f, { id: 'e2' });
    await f.controller.stopEndpoint('e2');
    createEndpoint(f, { id: 'e3' });
    const e = await refusal(f.controller.startEndpoint('e2'));
    expect(statusOfError(e)).toBe(429);
    expect(e.message).toMatch(/^At most 2 endpoints of one user/);
    expect(f.table.get('e2')?.desired).toBe('stopped');
    await f.controller.stopEndpoint('e3');
    await f.controller.startEndpoint('e2');
    expect(f.table.get('e2')?.desired).toBe('running');
  });

  it('a scaled-to-zero endpoint does not count, and cannot wake while the others fill the cap', async () => {
    const f = controllerFixture();
    createEndpoint(f, { id: 'e1', idleMinutes: 10 });
    await ready(f, 9080);
    f.clock.advance(10 * MINUTE);
    await f.controller.tick();
    expect(state(f)).toBe('scaled-to-zero');
    createEndpoint(f, { id: 'e2' });
    createEndpoint(f, { id: 'e3' });
    const e = await refusal(
      f.controller.upstream('e1', new AbortController().signal)
    );
    expect(statusOfError(e)).toBe(429);
    expect(state(f)).toBe('scaled-to-zero');
    await f.controller.stopEndpoint('e3');
    const held = f.controller.upstream('e1', new AbortController().signal);
    await f.controller.tick();
    expect(state(f)).toBe('starting');
    f.provider.run(f.provider.last(), 9081);
    await f.controller.tick();
    await expect(held).resolves.toMatchObject({
      baseUrl: 'http://127.0.0.1:9081'
    });
  });
});
