/**
 * Liveness across replicas: two stores on one SQLite file stand for two replicas. What a
 * dead replica held is released by the leader, a live one's is not; a replica that
 * restarts under its id releases what its previous run left.
 */
import { createLogger } from '../../src/logging';
import { EventLog } from '../../src/replicas/event-log';
import { Leadership } from '../../src/replicas/leadership';
import { EndpointKeys } from '../../src/endpoints/keys';
import { tokenHolds } from '../../src/endpoints/repository/token-holds';
import { EndpointUsage } from '../../src/endpoints/usage';
import { DEAD_AFTER, Liveness } from '../../src/replicas/liveness';
import {
  releaseDead,
  releasePreviousLife,
  type IReplicaHolds
} from '../../src/replicas/reaper';
import {
  ReservationTable,
  storageHolds
} from '../../src/storage/repository/reservations';
import type { Store } from '../../src/store';
import { twoStores, type ITwoStores } from './replica-fakes';

const HEARTBEAT_MS = 5_000;
const log = createLogger('silent');

let stores: ITwoStores;
const clock = { now: Date.parse('2030-01-01T00:00:00Z') };

beforeEach(() => {
  stores = twoStores();
  clock.now = Date.parse('2030-01-01T00:00:00Z');
});
afterEach(() => stores.close());

const liveness = (store: Store, replica: string): Liveness =>
  new Liveness({
    store,
    replica,
    intervalMs: HEARTBEAT_MS,
    now: () => clock.now
  });

const iso = (ms: number): string => new Date(ms).toISOString();

/** A streamed write's reservation and its claim, held by `replica`. */
function streamedWrite(store: Store, replica: string, path: string): void {
  const table = new ReservationTable(store, replica);
  const target = `scope/${path}`;
  table.reserve(
    {
      id: `${replica}-${path}`,
      scope: 'scope',
      target,
      bytes: 100,
      createdAt: iso(clock.now),
      expiresAt: iso(clock.now + 3_600_000)
    },
    iso(clock.now),
    () => true
  );
  table.claim(
    target,
    `${replica}-w`,
    iso(clock.now + 3_600_000),
    iso(clock.now)
  );
}

function heldRows(store: Store): { reservations: string[]; claims: string[] } {
  const ids = (sql: string): string[] =>
    (store.db.prepare(sql).all() as { id: string }[]).map(r => r.id).sort();
  return {
    reservations: ids('SELECT id FROM storage_reservations'),
    claims: ids('SELECT holder AS id FROM storage_claims')
  };
}

describe('heartbeats', () => {
  it('lists the replicas seen within three intervals, and one that stops at once no more', () => {
    const one = liveness(stores.a, 'one');
    const two = liveness(stores.b, 'two');
    one.start();
    two.start();
    expect(one.live().map(r => r.id)).toEqual(['one', 'two']);
    clock.now += DEAD_AFTER * HEARTBEAT_MS;
    two.beat();
    // `one` last beat exactly three intervals ago: still alive; a moment later, dead.
    expect(two.live().map(r => r.id)).toEqual(['one', 'two']);
    clock.now += 1;
    expect(two.live().map(r => r.id)).toEqual(['two']);
    one.beat();
    expect(two.live().map(r => r.id)).toEqual(['one', 'two']);
    one.stop();
    expect(two.live().map(r => r.id)).toEqual(['two']);
    two.stop();
  });
});

describe('storage reservations and claims of replicas', () => {
  it('releases a dead replica’s streamed writes and claims, never a live one’s or an upload session’s', () => {
    const leader = liveness(stores.a, 'leader');
    const follower = liveness(stores.b, 'follower');
    leader.start();
    follower.start();
    streamedWrite(stores.a, 'leader', 'a.txt');
    streamedWrite(stores.b, 'follower', 'b.txt');
    // An upload session's reservation outlives its replica.
    stores.b.db
      .prepare(
        "INSERT INTO upload_sessions (id, tier, owner, path, s3_upload_id, mode, size, part_size, part_count, created_at, expires_at) VALUES ('follower-session', 't', 'alice', 'p', 'u', 'presigned', 5, 5, 1, ?, ?)"
      )
      .run(iso(clock.now), iso(clock.now + 3_600_000));
    new ReservationTable(stores.b, 'follower').reserve(
      {
        id: 'follower-session',
        scope: 'scope',
        target: 'scope/session',
        bytes: 5,
        createdAt: iso(clock.now),
        expiresAt: iso(clock.now + 3_600_000)
      },
      iso(clock.now),
      () => true
    );
    const holds = [storageHolds(stores.a)];
    expect(releaseDead(leader, holds, log)).toBe(0);
    expect(heldRows(stores.a)).toEqual({
      reservations: ['follower-b.txt', 'follower-session', 'leader-a.txt'],
      claims: ['follower-w', 'leader-w']
    });
    // The follower dies (no clean stop): after three silent intervals it is dead.
    clock.now += DEAD_AFTER * HEARTBEAT_MS + 1;
    leader.beat();
    expect(releaseDead(leader, holds, log)).toBe(2);
    expect(heldRows(stores.b)).toEqual({
      reservations: ['follower-session', 'leader-a.txt'],
      claims: ['leader-w']
    });
  });

  it('releases rows written before replicas had ids, and what a restart under the same id left', () => {
    const leader = liveness(stores.a, 'leader');
    leader.start();
    streamedWrite(stores.a, 'leader', 'a.txt');
    stores.a.db
      .prepare(
        "INSERT INTO storage_claims (target, holder, expires_at) VALUES ('scope/old', 'old-w', ?)"
      )
      .run(iso(clock.now + 60_000));
    expect(releaseDead(leader, [storageHolds(stores.a)], log)).toBe(1);
    expect(heldRows(stores.a).claims).toEqual(['leader-w']);
    // The same replica restarts: its previous run's writes are gone with it.
    releasePreviousLife('leader', [storageHolds(stores.b)], log);
    expect(heldRows(stores.a)).toEqual({ reservations: [], claims: [] });
  });
});

describe('gateway tokens held by replicas', () => {
  let keyId: string;
  const key = () => ({
    keyId,
    endpointId: 'ep',
    owner: 'alice',
    limits: { requestsPerMinute: null, tokenBudget: 1000 }
  });

  beforeEach(() => {
    stores.a.db
      .prepare(
        "INSERT INTO endpoints (id, owner, name, created_at, record) VALUES ('ep', 'alice', 'ep', '2030-01-01T00:00:00Z', '{}')"
      )
      .run();
    const keys = new EndpointKeys(stores.a);
    keyId = keys.create('ep', 'alice', { name: 'k' }).record.id;
    keys.setLimits(keyId, key().limits);
  });

  const usage = (store: Store, replica: string) =>
    new EndpointUsage(store, { now: () => clock.now, replica });

  it('charges what a dead replica held, leaves a live one’s requests in flight, and settles each once', () => {
    const leader = liveness(stores.a, 'leader');
    const follower = liveness(stores.b, 'follower');
    leader.start();
    follower.start();
    const onLeader = usage(stores.a, 'leader');
    const onFollower = usage(stores.b, 'follower');
    const held = onLeader.admit(key(), 30);
    expect(onFollower.admit(key(), 50).ok).toBe(true);
    // A replica that starts later charges nothing the others hold.
    usage(stores.b, 'late');
    expect(onLeader.keyTokens(keyId)).toEqual({
      used: 0,
      reserved: 80,
      budget: 1000
    });
    const holds: IReplicaHolds[] = [tokenHolds(stores.a)];
    clock.now += DEAD_AFTER * HEARTBEAT_MS + 1;
    leader.beat();
    expect(releaseDead(leader, holds, log)).toBe(1);
    // The follower's request was cut off with it: charged what it reserved.
    expect(onLeader.keyTokens(keyId)).toEqual({
      used: 50,
      reserved: 30,
      budget: 1000
    });
    onLeader.record(
      {
        keyId,
        endpointId: 'ep',
        promptTokens: 10,
        completionTokens: 5,
        latencyMs: 1,
        error: false
      },
      held.ok ? held.reservation : undefined
    );
    expect(onLeader.keyTokens(keyId)).toEqual({
      used: 65,
      reserved: 0,
      budget: 1000
    });
    expect(releaseDead(leader, holds, log)).toBe(0);
    onLeader.close();
    onFollower.close();
  });

  it('a bridge that restarts under its id charges what its previous run held', () => {
    const before = usage(stores.a, 'bridge');
    expect(before.admit(key(), 40).ok).toBe(true);
    const other = usage(stores.b, 'other');
    expect(other.admit(key(), 5).ok).toBe(true);
    const after = usage(stores.a, 'bridge');
    expect(after.keyTokens(keyId)).toEqual({
      used: 40,
      reserved: 5,
      budget: 1000
    });
  });
});

describe('one bridge that restarts', () => {
  it('releases at its election what its previous run left when it crashed', async () => {
    const crashed = liveness(stores.a, 'bridge:100');
    crashed.start();
    streamedWrite(stores.a, 'bridge:100', 'a.txt');
    // Its heartbeat goes stale; the new process (another pid) joins and leads.
    clock.now += DEAD_AFTER * HEARTBEAT_MS + 1;
    const next = new Leadership({
      config: { leaseSeconds: 10 },
      store: stores.b,
      events: new EventLog(stores.b),
      logger: log,
      singletons: [],
      liveness: liveness(stores.b, 'bridge:200'),
      holds: [storageHolds(stores.b), tokenHolds(stores.b)]
    });
    next.join();
    expect(heldRows(stores.b).reservations).toEqual(['bridge:100-a.txt']);
    next.start();
    await Promise.resolve();
    await new Promise(r => setImmediate(r));
    expect(heldRows(stores.b)).toEqual({ reservations: [], claims: [] });
    expect(next.status().live.map(r => r.id)).toEqual(['bridge:200']);
    await next.close();
    expect(next.status().live).toEqual([]);
  });
});
