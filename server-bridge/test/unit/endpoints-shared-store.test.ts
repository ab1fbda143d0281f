/**
 * Several bridges over one store: one leads (runs the loop), the other follows (routes
 * from the store, records owner actions and wakes there). Two controllers over two
 * Store objects opened on one SQLite file, sharing a provider (the cluster) and a clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EndpointController } from '../../src/endpoints/controller';
import type { IReplicaHandle, ReplicaStatus } from '../../src/endpoints/ports';
import { EndpointTable } from '../../src/endpoints/repository/endpoints';
import { Store } from '../../src/store';
import {
  FakeClock,
  FakeHealth,
  FakeProvider,
  SERVING_CONFIG,
  servingConfig
} from './endpoints-fakes';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface IBridge {
  store: Store;
  table: EndpointTable;
  controller: EndpointController;
}

interface ICluster {
  clock: FakeClock;
  provider: FakeProvider;
  health: FakeHealth;
  leader: IBridge;
  follower: IBridge;
  close(): Promise<void>;
}

function cluster(): ICluster {
  const dir = mkdtempSync(join(tmpdir(), 'hpcb-shared-store-'));
  const path = join(dir, 'bridge.db');
  const tiny = SERVING_CONFIG.models[0];
  const config = servingConfig({
    models: [
      ...SERVING_CONFIG.models,
      { ...tiny, name: 'tiny-random-2', path: '/models/tiny-2.gguf' }
    ]
  });
  const clock = new FakeClock();
  const provider = new FakeProvider();
  const health = new FakeHealth();
  const bridge = (): IBridge => {
    const store = new Store(path);
    const table = new EndpointTable(store);
    const controller = new EndpointController({
      config,
      table,
      providers: new Map([[provider.name, provider]]),
      logger: {
        info: () => undefined,
        warn: () => undefined,
        debug: () => undefined
      },
      clock,
      health: health.check,
      drainSeconds: 30,
      // The tests drive the loop with `tick()`.
      tickMs: HOUR
    });
    return { store, table, controller };
  };
  const leader = bridge();
  const follower = bridge();
  leader.controller.lead();
  return {
    clock,
    provider,
    health,
    leader,
    follower,
    close: async () => {
      await leader.controller.stop();
      await follower.controller.stop();
      leader.store.close();
      follower.store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

let c: ICluster;

beforeEach(() => {
  c = cluster();
});

afterEach(async () => {
  await c.close();
});

function createOn(b: IBridge, idleMinutes = 15) {
  return b.controller.create({
    id: 'e1',
    name: 'chat',
    owner: 'alice',
    model: 'tiny-random',
    provider: 'local',
    resources: { cpus: 2, memoryMB: 1000, gpus: 0, timeMinutes: 60 },
    idleMinutes,
    visibility: 'private',
    group: null
  });
}

/** The leader's loop starts a replica and sees it ready at `port`. */
async function readyAt(port: number) {
  await c.leader.controller.tick();
  c.provider.run(c.provider.last(), port, new Date(c.clock.now() + HOUR));
  await c.leader.controller.tick();
}

const signal = () => new AbortController().signal;

function state() {
  return c.leader.table.get('e1')?.state;
}

describe('Endpoints over a shared store: follower and leader', () => {
  it('an endpoint created on the follower gets its replica from the leader, and the follower routes to it', async () => {
    createOn(c.follower);
    // The follower does not run the loop: nothing starts until the leader steps.
    await new Promise(r => setTimeout(r, 20));
    expect(c.provider.replicas.size).toBe(0);
    await c.leader.controller.tick();
    expect(c.provider.replicas.size).toBe(1);
    expect(state()).toBe('starting');

    const r = c.provider.last();
    c.provider.run(r, 9101, new Date(c.clock.now() + HOUR));
    await c.leader.controller.tick();
    expect(state()).toBe('ready');
    await expect(
      c.follower.controller.upstream('e1', signal())
    ).resolves.toEqual({
      baseUrl: 'http://127.0.0.1:9101',
      apiKey: r.spec.upstreamKey,
      replicaId: r.spec.replicaId
    });
    expect(c.follower.controller.modelOf('e1')).toEqual({
      name: 'tiny-random',
      accepts: ['tiny-random', 'chat']
    });
  });

  it("the follower's routes come from memory between reads of the store", async () => {
    createOn(c.leader);
    await readyAt(9102);
    const reads = jest.spyOn(c.follower.table, 'get');
    for (let i = 0; i < 10; i++) {
      await c.follower.controller.upstream('e1', signal());
    }
    expect(reads).toHaveBeenCalledTimes(1);
    c.clock.advance(1000);
    await c.follower.controller.upstream('e1', signal());
    expect(reads).toHaveBeenCalledTimes(2);
  });

  it('holds a request on the follower while the endpoint starts and answers it once the leader sees it ready', async () => {
    createOn(c.follower);
    await c.leader.controller.tick();
    const held = c.follower.controller.upstream('e1', signal());
    c.provider.run(c.provider.last(), 9103);
    await c.leader.controller.tick();
    await expect(held).resolves.toMatchObject({
      baseUrl: 'http://127.0.0.1:9103'
    });
  });

  it('a request on the follower wakes a scaled-to-zero endpoint: the leader starts it and the held request gets the route', async () => {
    createOn(c.leader, 10);
    await readyAt(9104);
    c.clock.advance(10 * MINUTE);
    await c.leader.controller.tick();
    expect(state()).toBe('scaled-to-zero');
    expect(c.provider.live()).toHaveLength(0);

    const held = c.follower.controller.upstream('e1', signal());
    await c.leader.controller.tick();
    expect(c.provider.replicas.size).toBe(2);
    expect(state()).toBe('starting');
    expect(c.leader.table.get('e1')?.reason).toBe('Woken by a request');
    c.provider.run(c.provider.last(), 9105);
    await c.leader.controller.tick();
    await expect(held).resolves.toMatchObject({
      baseUrl: 'http://127.0.0.1:9105',
      replicaId: c.provider.last().spec.replicaId
    });
    expect(state()).toBe('ready');
  });

  it('traffic on the follower keeps the endpoint from scaling to zero on the leader', async () => {
    createOn(c.leader, 10);
    await readyAt(9106);
    for (let i = 0; i < 5; i++) {
      c.clock.advance(5 * MINUTE);
      await c.follower.controller.upstream('e1', signal());
      await c.leader.controller.tick();
    }
    expect(state()).toBe('ready');
    expect(c.provider.replicas.size).toBe(1);
    expect(c.leader.table.get('e1')?.lastRequestAt).toBe(
      new Date(c.clock.now()).toISOString()
    );
    // Without it, the leader scales it to zero.
    c.clock.advance(10 * MINUTE);
    await c.leader.controller.tick();
    expect(state()).toBe('scaled-to-zero');
  });

  it('notes requests on the follower at most once a second', async () => {
    createOn(c.leader);
    await readyAt(9107);
    const notes = jest.spyOn(c.follower.table, 'noteRequest');
    for (let i = 0; i < 5; i++) {
      c.follower.controller.touched('e1');
      c.clock.advance(300);
    }
    expect(notes).toHaveBeenCalledTimes(2);
  });

  it('the leader carries out stop and start asked on the follower', async () => {
    createOn(c.leader);
    await readyAt(9108);
    const first = c.provider.last();
    await c.follower.controller.stopEndpoint('e1');
    // The follower does not act on the provider: the replica still runs.
    expect(state()).toBe('stopping');
    expect(c.leader.table.get('e1')?.reason).toBe('Stopped by its owner');
    await expect(
      c.follower.controller.upstream('e1', signal())
    ).rejects.toMatchObject({
      code: 'upstream_unavailable',
      message: expect.stringMatching(/stopped/)
    });
    expect(first.stopped).toBe(false);
    // The leader's next step stops it, then the endpoint is stopped.
    await c.leader.controller.tick();
    expect(first.stopped).toBe(true);
    expect(state()).toBe('stopped');
    await expect(
      c.leader.controller.upstream('e1', signal())
    ).rejects.toMatchObject({ code: 'upstream_unavailable' });

    await c.follower.controller.startEndpoint('e1');
    await readyAt(9109);
    expect(state()).toBe('ready');
    expect(c.provider.live()).toHaveLength(1);
  });

  it("the leader's own stop shows stopping in the store until its replicas have ended", async () => {
    createOn(c.leader);
    await readyAt(9115);
    const first = c.provider.last();
    let release!: () => void;
    const gate = new Promise<void>(r => (release = r));
    const stop = c.provider.stop.bind(c.provider);
    c.provider.stop = async (h: IReplicaHandle): Promise<void> => {
      await gate;
      return stop(h);
    };
    const stopping = c.leader.controller.stopEndpoint('e1');
    await new Promise(r => setTimeout(r, 10));
    expect(c.follower.table.get('e1')?.state).toBe('stopping');
    release();
    await stopping;
    expect(first.stopped).toBe(true);
    expect(c.follower.table.get('e1')?.state).toBe('stopped');
  });

  it('stays stopping while the leader cannot stop a replica, and is stopped once it could', async () => {
    createOn(c.leader);
    await readyAt(9113);
    const first = c.provider.last();
    const stop = c.provider.stop.bind(c.provider);
    c.provider.stop = () => Promise.reject(new Error('scancel timed out'));
    await c.follower.controller.stopEndpoint('e1');
    await c.leader.controller.tick();
    expect(first.stopped).toBe(false);
    expect(state()).toBe('stopping');
    c.provider.stop = stop;
    await c.leader.controller.tick();
    expect(first.stopped).toBe(true);
    expect(state()).toBe('stopped');
  });

  it('the leader makes stopped an endpoint stopped on the follower while it had no replica', async () => {
    createOn(c.leader, 10);
    await readyAt(9114);
    c.clock.advance(10 * MINUTE);
    await c.leader.controller.tick();
    expect(state()).toBe('scaled-to-zero');
    await c.follower.controller.stopEndpoint('e1');
    expect(state()).toBe('stopping');
    await c.leader.controller.tick();
    expect(state()).toBe('stopped');
  });

  it('the leader stops the replicas of an endpoint deleted on the follower', async () => {
    createOn(c.leader);
    await readyAt(9110);
    const first = c.provider.last();
    await c.follower.controller.deleteEndpoint('e1');
    expect(c.leader.table.get('e1')).toBeUndefined();
    await c.leader.controller.tick();
    expect(first.stopped).toBe(true);
    await expect(
      c.leader.controller.upstream('e1', signal())
    ).rejects.toMatchObject({ code: 'not_found' });
  });

  it('the leader stops a replica still starting with the model a roll on the follower replaced', async () => {
    createOn(c.leader);
    await c.leader.controller.tick();
    const old = c.provider.last();
    await c.follower.controller.rollModel('e1', {
      model: 'tiny-random-2',
      modelFile: null
    });
    expect(old.stopped).toBe(false);
    expect(c.leader.table.get('e1')?.model).toBe('tiny-random-2');
    await c.leader.controller.tick();
    expect(old.stopped).toBe(true);
    expect(c.provider.live().map(r => r.spec.modelPath)).toEqual([
      '/models/tiny-2.gguf'
    ]);
  });

  it("does not overwrite a follower's change made during the leader's step", async () => {
    createOn(c.leader);
    await readyAt(9111);
    const first = c.provider.last();
    // The leader's next status call waits until the follower has stopped the endpoint.
    let release!: () => void;
    const gate = new Promise<void>(r => (release = r));
    const status = c.provider.status.bind(c.provider);
    c.provider.status = async (h: IReplicaHandle): Promise<ReplicaStatus> => {
      await gate;
      return status(h);
    };
    c.clock.advance(MINUTE);
    c.leader.controller.touched('e1');
    const step = c.leader.controller.tick();
    await new Promise(r => setTimeout(r, 10));
    await c.follower.controller.stopEndpoint('e1');
    release();
    await step;
    expect(c.leader.table.get('e1')).toMatchObject({
      desired: 'stopped',
      state: 'stopped'
    });
    expect(first.stopped).toBe(true);
  });

  it('a bridge elected after the leader stopped adopts the running replicas, starting none', async () => {
    createOn(c.leader);
    await readyAt(9112);
    const first = c.provider.last();
    await c.leader.controller.stop();
    await c.follower.controller.start();
    expect(c.provider.replicas.size).toBe(1);
    expect(first.stopped).toBe(false);
    await c.follower.controller.tick();
    expect(c.provider.replicas.size).toBe(1);
    expect(state()).toBe('ready');
    await expect(
      c.follower.controller.upstream('e1', signal())
    ).resolves.toMatchObject({ replicaId: first.spec.replicaId });
    // The former leader now routes from the store.
    await expect(
      c.leader.controller.upstream('e1', signal())
    ).resolves.toMatchObject({ replicaId: first.spec.replicaId });
  });

  it('requests held by a demoted leader are answered from the store', async () => {
    createOn(c.leader);
    await c.leader.controller.tick();
    const held = c.leader.controller.upstream('e1', signal());
    await c.leader.controller.follow();
    c.follower.controller.lead();
    c.provider.run(c.provider.last(), 9113);
    await c.follower.controller.tick();
    await c.follower.controller.tick();
    await expect(held).resolves.toMatchObject({
      baseUrl: 'http://127.0.0.1:9113'
    });
  });
});
