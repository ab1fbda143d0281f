import { createLogger } from '../../src/logging';
import { EventLog } from '../../src/replicas/event-log';
import { LeaderLease } from '../../src/replicas/lease';
import { Leadership } from '../../src/replicas/leadership';
import { Singletons } from '../../src/replicas/singletons';
import type { Store } from '../../src/store';
import { twoStores, type ITwoStores } from './replica-fakes';

const LEASE_MS = 10_000;

/** A replica: its lease on its own connection, its singletons, a clock the test moves. */
function replica(store: Store, holder: string, clock: { now: number }) {
  const log: string[] = [];
  const singletons = new Singletons(
    [
      {
        name: 'poller',
        start: () => log.push('poller started'),
        stop: () => {
          log.push('poller stopped');
        }
      },
      {
        name: 'controller',
        start: () => log.push('controller started'),
        stop: async () => {
          log.push('controller stopped');
        }
      }
    ],
    (name, e) => log.push(`${name} failed: ${String(e)}`)
  );
  const lease = new LeaderLease({
    store,
    name: 'singletons',
    holder,
    leaseMs: LEASE_MS,
    now: () => clock.now,
    onElected: () => void singletons.start(),
    onDemoted: () => void singletons.stop()
  });
  return { lease, singletons, log, settled: () => singletons.settled() };
}

describe('the leader lease between two replicas on one database', () => {
  let stores: ITwoStores;
  const clock = { now: Date.parse('2030-01-01T00:00:00Z') };
  beforeEach(() => {
    stores = twoStores();
    clock.now = Date.parse('2030-01-01T00:00:00Z');
  });
  afterEach(() => stores.close());

  it('elects exactly one of them, which keeps the lease while it renews', () => {
    const one = replica(stores.a, 'one', clock);
    const two = replica(stores.b, 'two', clock);
    one.lease.tick();
    two.lease.tick();
    expect([one.lease.isLeader, two.lease.isLeader]).toEqual([true, false]);
    for (let i = 0; i < 5; i++) {
      clock.now += LEASE_MS / 3;
      two.lease.tick();
      one.lease.tick();
      expect([one.lease.isLeader, two.lease.isLeader]).toEqual([true, false]);
    }
    expect(two.lease.current()).toEqual({
      holder: 'one',
      acquiredAt: '2030-01-01T00:00:00.000Z',
      expiresAt: clock.now + LEASE_MS
    });
  });

  it('hands the lease to the other replica once the leader stopped renewing and it expired', () => {
    const one = replica(stores.a, 'one', clock);
    const two = replica(stores.b, 'two', clock);
    one.lease.tick();
    clock.now += LEASE_MS - 1;
    two.lease.tick();
    expect(two.lease.isLeader).toBe(false);
    clock.now += 2;
    two.lease.tick();
    expect(two.lease.isLeader).toBe(true);
    expect(one.lease.current()?.holder).toBe('two');
    // The old leader, back, finds the lease taken: it is demoted and stays a follower.
    one.lease.tick();
    expect([one.lease.isLeader, two.lease.isLeader]).toEqual([false, true]);
  });

  it('starts the singletons on election and stops them at once on demotion; they start again when re-elected', async () => {
    const one = replica(stores.a, 'one', clock);
    const two = replica(stores.b, 'two', clock);
    one.lease.tick();
    await one.settled();
    expect(one.log).toEqual(['poller started', 'controller started']);
    expect(one.singletons.running).toBe(true);
    // `one` stalls past its lease; `two` takes over; `one`'s next try demotes it.
    clock.now += LEASE_MS + 1;
    two.lease.tick();
    one.lease.tick();
    await one.settled();
    expect(one.singletons.running).toBe(false);
    expect(one.log).toEqual([
      'poller started',
      'controller started',
      'controller stopped',
      'poller stopped'
    ]);
    await two.settled();
    expect(two.log).toEqual(['poller started', 'controller started']);
    // `two` steps down (closing): `one` is elected at its next try, without waiting.
    two.lease.stop();
    one.lease.tick();
    await one.settled();
    expect(one.lease.isLeader).toBe(true);
    expect(one.log.slice(4)).toEqual(['poller started', 'controller started']);
  });

  it('keeps leading through a failed renewal until its lease runs out, then steps down', () => {
    const one = replica(stores.a, 'one', clock);
    one.lease.tick();
    const take = jest.spyOn(stores.a, 'statement').mockImplementation(() => {
      throw new Error('SQLITE_BUSY');
    });
    clock.now += LEASE_MS / 2;
    one.lease.tick();
    expect(one.lease.isLeader).toBe(true);
    clock.now += LEASE_MS / 2;
    one.lease.tick();
    expect(one.lease.isLeader).toBe(false);
    take.mockRestore();
  });
});

describe('a replica’s leadership', () => {
  let stores: ITwoStores;
  beforeEach(() => {
    stores = twoStores();
  });
  afterEach(() => stores.close());

  function leadership(store: Store, id: string, started: string[]) {
    return new Leadership({
      config: { id, leaseSeconds: 10 },
      store,
      events: new EventLog(store),
      logger: createLogger('silent'),
      singletons: [
        {
          name: 'poller',
          start: () => started.push(`${id} started`),
          stop: () => {
            started.push(`${id} stopped`);
          }
        }
      ]
    });
  }

  it('runs the singletons on the first replica to start, shows it as the leader, and gives the lease up on close', async () => {
    const started: string[] = [];
    const one = leadership(stores.a, 'one', started);
    const two = leadership(stores.b, 'two', started);
    one.start();
    two.start();
    expect(two.status()).toEqual({
      replica: 'two',
      leader: 'one',
      since: expect.any(String),
      until: expect.any(String),
      live: expect.any(Array)
    });
    expect(
      two
        .status()
        .live.map(r => r.id)
        .sort()
    ).toEqual(['one', 'two']);
    await one.close();
    expect(two.status().leader).toBeNull();
    // A replica that stops deletes its heartbeat: it is dead for the others at once.
    expect(two.status().live.map(r => r.id)).toEqual(['two']);
    await two.close();
    expect(started).toEqual(['one started', 'one stopped']);
  });
});
