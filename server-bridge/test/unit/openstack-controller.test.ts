/**
 * The controller's fallback provider (no capacity on the cloud, or still queued after
 * `fallbackAfterMinutes`) and its periodic reconciliation (orphans stopped, a replica
 * started by a bridge that died adopted, parked replicas kept while the endpoint sleeps).
 */
import { EndpointController } from '../../src/endpoints/controller';
import type { IReplicaHandle, IStopOptions } from '../../src/endpoints/ports';
import { EndpointTable } from '../../src/endpoints/repository/endpoints';
import { testStore } from './test-store';
import {
  FakeClock,
  FakeHealth,
  FakeProvider,
  servingConfig
} from './endpoints-fakes';

const MINUTE = 60_000;

class NoCapacity extends Error {
  readonly noCapacity = true;
}

/** A fake that remembers how it was asked to stop. */
class ParkingProvider extends FakeProvider {
  readonly stops: { replicaId: string; park: boolean }[] = [];
  async stop(handle: IReplicaHandle, options: IStopOptions = {}) {
    this.stops.push({
      replicaId: handle.replicaId,
      park: options.park === true
    });
    await super.stop(handle);
  }
}

function fixture(
  serving: Record<string, unknown> = {},
  store = testStore(),
  cloud = new ParkingProvider('openstack'),
  local = new FakeProvider('local')
) {
  const base = servingConfig();
  const config = servingConfig({
    serving: {
      ...base.serving,
      providers: { local: { maxReplicas: 4 } },
      ...serving
    }
  });
  const table = new EndpointTable(store);
  const clock = new FakeClock();
  const health = new FakeHealth();
  const logs: string[] = [];
  const controller = new EndpointController({
    config,
    table,
    providers: new Map([
      ['openstack', cloud],
      ['local', local]
    ]),
    logger: {
      info: (_: unknown, m?: string) => logs.push(m ?? ''),
      warn: (_: unknown, m?: string) => logs.push(m ?? ''),
      debug: () => undefined
    },
    clock,
    health: health.check
  });
  // The tests drive the leader's loop with `tick()`.
  controller.lead();
  return {
    config,
    store,
    table,
    clock,
    health,
    controller,
    cloud,
    local,
    logs
  };
}

function create(
  f: ReturnType<typeof fixture>,
  fallback: 'local' | null = 'local',
  id = 'e1'
) {
  return f.controller.create({
    id,
    name: `chat-${id}`,
    owner: 'alice',
    model: 'tiny-random',
    provider: 'openstack',
    fallback,
    resources: { cpus: 1, memoryMB: 1000, gpus: 1, timeMinutes: 60 },
    idleMinutes: 15,
    visibility: 'private',
    group: null
  });
}

describe('EndpointController: fallback provider', () => {
  it('starts on the fallback when the cloud refuses for quota, and says why', async () => {
    const f = fixture();
    f.cloud.failStart = new NoCapacity(
      "The cloud project's quota is used up: Quota exceeded for instances"
    );
    create(f);
    await f.controller.tick();
    const replicas = f.table.replicas('e1');
    expect(replicas.map(r => [r.provider, r.state])).toEqual([
      ['openstack', 'stopped'],
      ['local', 'pending']
    ]);
    expect(replicas[0]?.reason).toBe(
      "Moved to local: The cloud project's quota is used up: Quota exceeded for instances"
    );
    const ep = f.table.get('e1');
    expect(ep?.fallbackReason).toBe(
      "The cloud project's quota is used up: Quota exceeded for instances"
    );
    expect(ep?.failuresInRow).toBe(0);
    f.local.run(f.local.last(), 9100);
    await f.controller.tick();
    expect(f.table.get('e1')?.state).toBe('ready');
    const up = await f.controller.upstream('e1', new AbortController().signal);
    expect(up.baseUrl).toBe('http://127.0.0.1:9100');
  });

  it('moves a replica whose server found no valid host, stopping the server', async () => {
    const f = fixture();
    create(f);
    await f.controller.tick();
    const server = f.cloud.last();
    server.status = {
      state: 'failed',
      reason:
        'The cloud has no free GPU of this kind right now (Demo cloud: No valid host was found.)',
      noCapacity: true
    };
    await f.controller.tick();
    expect(server.stopped).toBe(true);
    expect(f.local.live()).toHaveLength(1);
    expect(f.table.get('e1')?.fallbackReason).toMatch(
      /^The cloud has no free GPU of this kind right now \(.*No valid host/
    );
    // The fallback replica serves; the reason stays while it does.
    f.local.run(f.local.last(), 9101);
    await f.controller.tick();
    expect(f.table.get('e1')?.state).toBe('ready');
    expect(f.table.get('e1')?.fallbackReason).toMatch(
      /^The cloud has no free GPU/
    );
  });

  it('without a fallback, a full cloud fails the endpoint at once with the sentence first', async () => {
    const f = fixture({ maxRestarts: 3 });
    f.cloud.failStart = new NoCapacity(
      "The cloud project's quota is used up: Quota exceeded for instances"
    );
    create(f, null);
    await f.controller.tick();
    const ep = f.table.get('e1');
    expect(ep?.state).toBe('failed');
    expect(ep?.reason).toBe(
      "The cloud project's quota is used up: Quota exceeded for instances. Start it again when there is room, or give it a fallback provider."
    );
    // Not retried: a second tick starts nothing.
    const started = f.table.replicas('e1').length;
    await f.controller.tick();
    expect(f.table.replicas('e1')).toHaveLength(started);
    expect(f.local.replicas.size).toBe(0);
  });

  it('moves a replica still queued after fallbackAfterMinutes', async () => {
    const f = fixture({ fallbackAfterMinutes: 3 });
    create(f);
    await f.controller.tick();
    const queued = f.cloud.last();
    queued.status = { state: 'pending', detail: 'job 42 pending (Resources)' };
    f.clock.advance(2 * MINUTE);
    await f.controller.tick();
    expect(f.local.replicas.size).toBe(0);
    f.clock.advance(MINUTE);
    await f.controller.tick();
    expect(queued.stopped).toBe(true);
    expect(f.local.live()).toHaveLength(1);
    expect(f.table.get('e1')?.fallbackReason).toBe(
      'The openstack replica was still waiting after 3 minutes (job 42 pending (Resources))'
    );
  });
});

describe('EndpointController: periodic reconcile', () => {
  it('every reconcileSeconds stops replicas without a live record, keeps live ones', async () => {
    const f = fixture({ reconcileSeconds: 60 });
    create(f);
    await f.controller.start();
    await f.controller.stop();
    await f.controller.tick();
    const live = f.cloud.last();
    // A server whose record is gone (e.g. a bridge crash between delete and record).
    await f.cloud.start({
      ...live.spec,
      replicaId: 'orphan',
      endpointId: 'zz'
    });
    await f.controller.tick();
    expect(f.cloud.replicas.get('orphan')?.stopped).toBe(false);
    f.clock.advance(60_000);
    await f.controller.tick();
    expect(f.cloud.replicas.get('orphan')?.stopped).toBe(true);
    expect(live.stopped).toBe(false);
  });

  it('adopts a server started by a bridge that died before storing its handle', async () => {
    const store = testStore();
    const f = fixture({}, store);
    create(f, null);
    await f.controller.tick();
    const r = f.table.replicas('e1')[0];
    if (r === undefined) {
      throw new Error('no replica');
    }
    f.table.putReplica({ ...r, handle: null });
    const g = fixture({}, store, f.cloud, f.local);
    await g.controller.reconcile();
    expect(g.table.replicas('e1')[0]?.handle?.replicaId).toBe(r.id);
    f.cloud.run(f.cloud.last(), 9200);
    await g.controller.tick();
    expect(g.table.get('e1')?.state).toBe('ready');
    expect(f.cloud.live()).toHaveLength(1);
  });

  it('parks on scale to zero and keeps a parked replica only while its endpoint sleeps', async () => {
    const f = fixture();
    create(f, null);
    await f.controller.tick();
    f.cloud.run(f.cloud.last(), 9300);
    await f.controller.tick();
    f.clock.advance(16 * MINUTE);
    await f.controller.tick();
    expect(f.table.get('e1')?.state).toBe('scaled-to-zero');
    expect(f.cloud.stops).toEqual([
      { replicaId: f.cloud.last().spec.replicaId, park: true }
    ]);
    // The provider lists the parked server: kept while the endpoint sleeps …
    const parked = {
      handle: { provider: 'openstack', replicaId: 'parked-1', ref: {} },
      endpointId: 'e1',
      owner: 'alice',
      parked: true
    };
    const stoppedIds: string[] = [];
    f.cloud.list = async () => [parked];
    f.cloud.stop = async (h: IReplicaHandle) => {
      stoppedIds.push(h.replicaId);
    };
    await f.controller.reconcile(false);
    expect(stoppedIds).toEqual([]);
    // … and deleted once the endpoint is stopped by its owner.
    await f.controller.stopEndpoint('e1');
    await f.controller.reconcile(false);
    expect(stoppedIds).toEqual(['parked-1']);
  });
});
