/** Endpoint API keys (store, routes) and per-key usage (rate window, budget, metrics). */
import { createHash } from 'node:crypto';
import { testStore } from './test-store';
import {
  EndpointKeyCreatedSchema,
  EndpointKeyListSchema,
  EndpointKeySchema,
  ErrorBodySchema,
  Routes
} from '../../src/contract';
import { EndpointKeys, bearerOf } from '../../src/endpoints/keys';
import type { IKeyLimits } from '../../src/endpoints/repository/keys';
import { EndpointUsage } from '../../src/endpoints/usage';
import { quantile } from '../../src/endpoints/usage-buckets';
import { Store } from '../../src/store';
import { BASE } from './app-fixture';
import {
  ADMIN,
  ALICE,
  BOB,
  FakeClock,
  gatewayFixture,
  type IGatewayFixture
} from './gateway-fakes';

function storeWithEndpoint(): Store {
  const store = testStore();
  store.db
    .prepare(
      "INSERT INTO endpoints (id, owner, name, created_at, record) VALUES ('ep', 'alice', 'ep', '2026-01-01T00:00:00Z', '{}')"
    )
    .run();
  return store;
}

const LIMITLESS: IKeyLimits = { requestsPerMinute: null, tokenBudget: null };

describe('EndpointKeys', () => {
  it('creates hpcb_ keys of 32 random bytes, stores only their SHA-256 and resolves them until revoked', () => {
    const store = storeWithEndpoint();
    const keys = new EndpointKeys(store);
    const { key, record } = keys.create('ep', 'alice', {
      name: 'notebook',
      tokenBudget: 1000
    });
    expect(key).toMatch(/^hpcb_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key.slice(5), 'base64url')).toHaveLength(32);
    const row = store.db.prepare('SELECT * FROM endpoint_keys').get() as Record<
      string,
      unknown
    >;
    expect(row.key_hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(key);
    expect(record.prefix).toBe(key.slice(0, 9));

    expect(keys.resolve(key)).toEqual({
      keyId: record.id,
      endpointId: 'ep',
      owner: 'alice',
      limits: { requestsPerMinute: null, tokenBudget: 1000 }
    });
    expect(keys.get(record.id)?.lastUsedAt).not.toBeNull();
    expect(keys.resolve(`${key}x`)).toBeNull();
    expect(keys.resolve('sk-something')).toBeNull();

    keys.revoke('ep', record.id);
    expect(keys.resolve(key)).toBeNull();
    expect(keys.list('ep')[0]?.revokedAt).not.toBeNull();
    expect(() => keys.revoke('other', record.id)).toThrow(/no key/);
    store.close();
  });

  it('reads only Bearer authorization headers', () => {
    expect(bearerOf('Bearer hpcb_abc')).toBe('hpcb_abc');
    expect(bearerOf('bearer  hpcb_abc ')).toBe('hpcb_abc');
    expect(bearerOf('token hpcb_abc')).toBeNull();
    expect(bearerOf(undefined)).toBeNull();
  });

  it('goes away with its endpoint', () => {
    const store = storeWithEndpoint();
    const keys = new EndpointKeys(store);
    const { key } = keys.create('ep', 'alice', { name: 'k' });
    store.db.prepare("DELETE FROM endpoints WHERE id = 'ep'").run();
    expect(keys.resolve(key)).toBeNull();
    store.close();
  });
});

describe('EndpointUsage', () => {
  let store: Store;
  let clock: FakeClock;
  let usage: EndpointUsage;
  let keyId: string;

  beforeEach(() => {
    store = storeWithEndpoint();
    clock = new FakeClock();
    usage = new EndpointUsage(store, { now: clock.now });
    keyId = new EndpointKeys(store).create('ep', 'alice', { name: 'k' }).record
      .id;
  });
  afterEach(() => {
    usage.close();
    store.close();
  });

  const key = (limits: Partial<IKeyLimits>) => ({
    keyId,
    endpointId: 'ep',
    owner: 'alice',
    limits: { ...LIMITLESS, ...limits }
  });

  const budget = (tokenBudget: number | null): void =>
    new EndpointKeys(store).setLimits(keyId, {
      requestsPerMinute: null,
      tokenBudget
    });
  const event = (promptTokens: number, completionTokens: number) => ({
    keyId,
    endpointId: 'ep',
    promptTokens,
    completionTokens,
    latencyMs: 10,
    error: false
  });
  const reserved = (tokens: number) => ({
    ok: true,
    reservation: { keyId, tokens }
  });

  it('limits requests per key and calendar minute, with the seconds to wait', () => {
    const k = key({ requestsPerMinute: 2 });
    clock.t += 15_000;
    expect(usage.admit(k, 5)).toEqual(reserved(5));
    expect(usage.admit(k, 5)).toEqual(reserved(5));
    expect(usage.admit(k, 5)).toEqual({
      ok: false,
      reason: 'rate',
      limit: 2,
      retryAfterSeconds: 45
    });
    clock.t += 45_000;
    expect(usage.admit(k, 5)).toEqual(reserved(5));
  });

  it('refuses a key once its tokens reach the budget, written or not', () => {
    budget(20);
    const k = key({ tokenBudget: 20 });
    const a = usage.admit(k, 12);
    expect(a).toEqual(reserved(12));
    usage.record(event(8, 4), a.ok ? a.reservation : undefined);
    const b = usage.admit(k, 8);
    expect(b).toEqual(reserved(8));
    usage.flush();
    usage.record(event(5, 3), b.ok ? b.reservation : undefined);
    expect(usage.admit(k, 1)).toEqual({
      ok: false,
      reason: 'budget',
      used: 20,
      reserved: 0,
      budget: 20,
      asked: 1
    });
    // A fresh counter (a restarted bridge) reads the same from the store.
    usage.flush();
    const again = new EndpointUsage(store, { now: clock.now });
    expect(again.tokensUsed(keyId)).toBe(20);
  });

  it('holds reservations so that requests in flight never pass the budget together', () => {
    budget(50);
    const k = key({ tokenBudget: 50 });
    const held = [usage.admit(k, 20), usage.admit(k, 20)];
    expect(held).toEqual([reserved(20), reserved(20)]);
    // 40 held, 10 left: a third of 20 does not fit, one of 10 does.
    expect(usage.admit(k, 20)).toMatchObject({
      ok: false,
      reason: 'budget',
      used: 0,
      reserved: 40,
      asked: 20
    });
    const small = usage.admit(k, 10);
    expect(small).toEqual(reserved(10));
    expect(usage.keyTokens(keyId)).toEqual({
      used: 0,
      reserved: 50,
      budget: 50
    });
    // Settling replaces a reservation with the real cost, which frees the rest.
    for (const h of [...held, small]) {
      usage.record(event(3, 2), h.ok ? h.reservation : undefined);
    }
    expect(usage.keyTokens(keyId)).toEqual({
      used: 15,
      reserved: 0,
      budget: 50
    });
    expect(usage.admit(k, 35)).toEqual(reserved(35));
    expect(usage.keyUsage('ep').get(keyId)).toEqual({
      requests: 3,
      tokensUsed: 15,
      tokensReserved: 35
    });
  });

  it('reads a budget changed after the key was resolved, and charges what a stopped bridge left reserved', () => {
    budget(100);
    const k = key({ tokenBudget: 100 });
    expect(usage.admit(k, 30)).toEqual(reserved(30));
    budget(40);
    expect(usage.admit(k, 30)).toMatchObject({ ok: false, reason: 'budget' });
    // The bridge stops with the 30 still held: a new one charges them.
    const again = new EndpointUsage(store, { now: clock.now });
    expect(again.keyTokens(keyId)).toEqual({
      used: 30,
      reserved: 0,
      budget: 40
    });
  });

  it('reports per-minute requests, errors, tokens and p50/p95 latency of an endpoint', () => {
    for (let i = 1; i <= 20; i++) {
      usage.record({
        keyId,
        endpointId: 'ep',
        promptTokens: 1,
        completionTokens: 2,
        latencyMs: i * 10,
        error: i === 20
      });
      if (i === 10) {
        usage.flush(); // the second half merges into the written minute
      }
    }
    clock.t += 60_000;
    usage.record({
      keyId,
      endpointId: 'ep',
      promptTokens: 3,
      completionTokens: 0,
      latencyMs: 5,
      error: false
    });
    const m = usage.metrics('ep', 3);
    expect(m.points.map(p => p.at)).toEqual([
      '2026-11-25T11:59:00.000Z',
      '2026-11-25T12:00:00.000Z',
      '2026-11-25T12:01:00.000Z'
    ]);
    expect(m.points[0]).toMatchObject({ requests: 0, p50Ms: null });
    expect(m.points[1]).toEqual({
      at: '2026-11-25T12:00:00.000Z',
      requests: 20,
      errors: 1,
      p50Ms: 100,
      p95Ms: 190,
      promptTokens: 20,
      completionTokens: 40
    });
    expect(m.points[2]).toMatchObject({ requests: 1, p50Ms: 5, p95Ms: 5 });
    expect(m.totals).toEqual({
      requests: 21,
      errors: 1,
      promptTokens: 23,
      completionTokens: 40
    });
    expect(usage.keyUsage('ep').get(keyId)).toEqual({
      requests: 21,
      tokensUsed: 63,
      tokensReserved: 0
    });
    expect(usage.metrics('other').totals.requests).toBe(0);
  });

  it('keeps a bounded latency sample', () => {
    for (let i = 0; i < 1000; i++) {
      usage.record({
        keyId,
        endpointId: 'ep',
        promptTokens: 0,
        completionTokens: 0,
        latencyMs: i,
        error: false
      });
    }
    usage.flush();
    const row = store.db
      .prepare('SELECT latency_sample, latency_seen FROM endpoint_usage')
      .get() as { latency_sample: string; latency_seen: number };
    expect((JSON.parse(row.latency_sample) as number[]).length).toBe(64);
    expect(row.latency_seen).toBe(1000);
  });

  it('computes nearest-rank quantiles', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([3, 1, 2], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.95)).toBe(4);
  });
});

describe('key routes', () => {
  let f: IGatewayFixture;
  beforeEach(async () => {
    f = await gatewayFixture();
  });
  afterEach(async () => {
    await f.app.close();
  });

  const keysUrl = `${BASE}${Routes.endpointKeys('ep-alice')}`;

  it('lets the owner create (shown once), list (never the key) and revoke keys', async () => {
    const created = await f.app.inject({
      method: 'POST',
      url: keysUrl,
      headers: ALICE,
      payload: {
        name: 'course-notebook',
        requestsPerMinute: 60,
        tokenBudget: 5000
      }
    });
    expect(created.statusCode).toBe(201);
    const k = EndpointKeyCreatedSchema.parse(created.json());
    expect(k).toMatchObject({
      name: 'course-notebook',
      requestsPerMinute: 60,
      tokenBudget: 5000,
      tokensUsed: 0,
      revokedAt: null
    });
    expect(k.key.startsWith(k.prefix)).toBe(true);
    expect(f.keys.resolve(k.key)?.endpointId).toBe('ep-alice');

    const list = await f.app.inject({ url: keysUrl, headers: ALICE });
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(k.key);
    expect(
      EndpointKeyListSchema.parse(list.json()).keys.map(x => x.id)
    ).toEqual([k.id]);

    const revoked = await f.app.inject({
      method: 'DELETE',
      url: `${BASE}${Routes.endpointKey('ep-alice', k.id)}`,
      headers: ALICE
    });
    expect(revoked.statusCode).toBe(200);
    expect(EndpointKeySchema.parse(revoked.json()).revokedAt).not.toBeNull();
    expect(f.keys.resolve(k.key)).toBeNull();
    expect(f.store.auditLog().map(a => a.action)).toEqual([
      'endpoint.key.revoke',
      'endpoint.key.create'
    ]);
  });

  it('hides the endpoint from other users; admins list and revoke but do not create', async () => {
    const { record } = f.keys.create('ep-alice', 'alice', { name: 'k' });
    for (const [method, url] of [
      ['GET', keysUrl],
      ['POST', keysUrl],
      ['DELETE', `${BASE}${Routes.endpointKey('ep-alice', record.id)}`]
    ] as const) {
      const res = await f.app.inject({
        method,
        url,
        headers: BOB,
        ...(method === 'POST' ? { payload: { name: 'mine' } } : {})
      });
      expect({ method, status: res.statusCode }).toEqual({
        method,
        status: 404
      });
      expect(ErrorBodySchema.parse(res.json()).error.code).toBe('not_found');
    }
    expect(
      (await f.app.inject({ url: keysUrl, headers: ADMIN })).statusCode
    ).toBe(200);
    const adminCreate = await f.app.inject({
      method: 'POST',
      url: keysUrl,
      headers: ADMIN,
      payload: { name: 'admin-key' }
    });
    expect(adminCreate.statusCode).toBe(403);
    const adminRevoke = await f.app.inject({
      method: 'DELETE',
      url: `${BASE}${Routes.endpointKey('ep-alice', record.id)}`,
      headers: ADMIN
    });
    expect(adminRevoke.statusCode).toBe(200);
    expect(
      (
        await f.app.inject({
          url: `${BASE}${Routes.endpointKeys('nope')}`,
          headers: ALICE
        })
      ).statusCode
    ).toBe(404);
    expect((await f.app.inject({ url: keysUrl })).statusCode).toBe(401);
  });

  it('validates the key request', async () => {
    const res = await f.app.inject({
      method: 'POST',
      url: keysUrl,
      headers: ALICE,
      payload: { name: 'bad name!', tokenBudget: -1 }
    });
    expect(res.statusCode).toBe(400);
    expect(ErrorBodySchema.parse(res.json()).error.code).toBe('bad_request');
  });
});
