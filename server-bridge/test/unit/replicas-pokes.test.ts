/**
 * Pollers and the kernel idle sweep across two replicas on one database: pokes reach the
 * leader's pollers only, a refresh on a follower waits for the leader's tick instead of
 * polling itself, and kernel traffic relayed by a follower keeps the kernel alive on the
 * leader's sweep while that follower lives.
 */
import { renderKernelScript } from '../../src/adapters/ssh/kernel-script';
import type { ClusterKernel } from '../../src/contract';
import { KernelEvents } from '../../src/kernels/events';
import { KernelService } from '../../src/kernels/service';
import { EventLog } from '../../src/replicas/event-log';
import { DEAD_AFTER, Liveness } from '../../src/replicas/liveness';
import { ClusterPokes, type IPokeable } from '../../src/replicas/pokes';
import type { Store } from '../../src/store';
import { FakeKernelCluster, kernelAccess, kernelConfig } from './kernel-fakes';
import { twoStores, type ITwoStores } from './replica-fakes';

let stores: ITwoStores;
beforeEach(() => {
  stores = twoStores();
});
afterEach(() => stores.close());

const turn = (): Promise<void> => new Promise(r => setImmediate(r));

/** A poller that counts what it was asked; `started` as on the leader. */
function fakePoller(started: boolean) {
  const asked = { pokes: 0, ticks: 0 };
  const poller: IPokeable = {
    started,
    poke: () => {
      asked.pokes += 1;
    },
    refresh: async () => {
      await turn();
      asked.ticks += 1;
    }
  };
  return { poller, asked };
}

describe('pokes between replicas', () => {
  let leaderLog: EventLog;
  let followerLog: EventLog;
  let leader: ReturnType<typeof fakePoller>;
  let follower: ReturnType<typeof fakePoller>;
  let onFollower: ClusterPokes;

  beforeEach(() => {
    leaderLog = new EventLog(stores.a);
    followerLog = new EventLog(stores.b);
    leader = fakePoller(true);
    follower = fakePoller(false);
    new ClusterPokes(leaderLog).serve(
      'jobs',
      new Map([['demo', leader.poller]])
    );
    onFollower = new ClusterPokes(followerLog, 60_000);
    onFollower.serve('jobs', new Map([['demo', follower.poller]]));
  });

  it('a poke on a follower makes the leader’s poller tick, not the follower’s', () => {
    onFollower.poke('jobs', 'demo');
    expect(leader.asked.pokes).toBe(0);
    leaderLog.drain();
    expect(leader.asked).toEqual({ pokes: 1, ticks: 0 });
    expect(follower.asked).toEqual({ pokes: 0, ticks: 0 });
    // Another kind's or cluster's pokes are not this poller's.
    onFollower.poke('kernels', 'demo');
    onFollower.poke('jobs', 'other');
    leaderLog.drain();
    expect(leader.asked.pokes).toBe(1);
  });

  it('a refresh on a follower waits for the leader’s tick and does not poll itself', async () => {
    let answered: boolean | undefined;
    const refresh = onFollower.refresh('jobs', 'demo').then(a => {
      answered = a;
    });
    await turn();
    followerLog.drain();
    expect(answered).toBeUndefined();
    leaderLog.drain();
    await turn();
    await turn();
    expect(leader.asked.ticks).toBe(1);
    expect(answered).toBeUndefined();
    followerLog.drain();
    await refresh;
    expect(answered).toBe(true);
    expect(follower.asked).toEqual({ pokes: 0, ticks: 0 });
  });

  it('a refresh without a leader gives up after its wait', async () => {
    const alone = new ClusterPokes(followerLog, 5);
    await expect(alone.refresh('jobs', 'demo')).resolves.toBe(false);
    expect(follower.asked).toEqual({ pokes: 0, ticks: 0 });
  });
});

describe('kernel activity across replicas', () => {
  const HEARTBEAT_MS = 5_000;
  const T0 = Date.parse('2030-01-01T00:00:00Z');
  const clock = { now: T0 };
  const config = kernelConfig({ idleMinutes: 10, leaseSeconds: 3600 });
  const quiet = { info: () => undefined, warn: () => undefined };
  let leaderBeat: Liveness;
  let followerBeat: Liveness;
  let leader: KernelService;
  let follower: KernelService;

  const service = (store: Store, replica: string, liveness: Liveness) =>
    new KernelService({
      config,
      store,
      access: kernelAccess(new FakeKernelCluster()),
      script: renderKernelScript,
      events: new KernelEvents(),
      logger: quiet,
      replica,
      aliveSince: () => liveness.aliveSince(),
      now: () => clock.now
    });

  const liveness = (store: Store, replica: string) =>
    new Liveness({
      store,
      replica,
      intervalMs: HEARTBEAT_MS,
      now: () => clock.now
    });

  function runningKernel(): ClusterKernel {
    const at = new Date(T0).toISOString();
    const kernel: ClusterKernel = {
      id: 'k1',
      owner: 'alice',
      jupyterKernelId: 'j1',
      profile: 'cpu-small',
      cluster: 'demo',
      partition: 'cpu',
      resources: { timeMinutes: 600, cpus: 1, memoryMB: 500, gpus: 0 },
      state: 'running',
      slurmId: '7',
      node: 'c1',
      pendingReason: null,
      queuePosition: null,
      expectedStart: null,
      walltimeEnd: null,
      endedReason: null,
      createdAt: at,
      lastActivity: at,
      updatedAt: at
    };
    leader.table.insert({
      kernel,
      runtimeDir: '/home/alice/.hpc-bridge/kernels/k1',
      leaseUntil: new Date(T0 + 24 * 3_600_000).toISOString(),
      ports: null
    });
    return kernel;
  }

  /** Both replicas beat `minutes` minutes later (the follower unless it died). */
  function later(minutes: number, followerAlive = true): void {
    clock.now += minutes * 60_000;
    leaderBeat.beat();
    if (followerAlive) {
      followerBeat.beat();
    }
  }

  beforeEach(() => {
    clock.now = T0;
    leaderBeat = liveness(stores.a, 'leader');
    followerBeat = liveness(stores.b, 'follower');
    leaderBeat.beat();
    followerBeat.beat();
    leader = service(stores.a, 'leader', leaderBeat);
    follower = service(stores.b, 'follower', followerBeat);
  });

  it('traffic a follower relays keeps the kernel alive on the leader’s sweep', async () => {
    const k = runningKernel();
    later(9);
    follower.touch(k.id);
    later(6);
    expect(await leader.sweep()).toBe(0);
    // The leader copied the follower's activity into the record (the API's lastActivity).
    expect(leader.table.get(k.id)?.kernel.lastActivity).toBe(
      new Date(T0 + 9 * 60_000).toISOString()
    );
    later(4);
    expect(await leader.sweep()).toBe(1);
    expect(leader.table.get(k.id)?.kernel).toMatchObject({
      state: 'cancelled',
      endedReason: 'idle for 10 minutes'
    });
  });

  it('a cell running on a live follower is never idle; once the follower is dead it no longer counts', async () => {
    const k = runningKernel();
    follower.touch(k.id, 'request');
    later(60);
    expect(await leader.sweep()).toBe(0);
    // The follower dies with the cell's connection.
    clock.now += DEAD_AFTER * HEARTBEAT_MS + 1;
    leaderBeat.beat();
    expect(await leader.sweep()).toBe(1);
  });

  it('a cell’s reply on the follower makes the kernel idle again once its time is up', async () => {
    const k = runningKernel();
    follower.touch(k.id, 'request');
    later(30);
    follower.touch(k.id, 'reply');
    later(9);
    expect(await leader.sweep()).toBe(0);
    later(1);
    expect(await leader.sweep()).toBe(1);
  });
});
