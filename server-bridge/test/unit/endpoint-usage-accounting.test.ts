/**
 * Token usage is accounting: it stays in the admin usage report after its endpoint and
 * keys are deleted, with who spent it and on which endpoint kept in the rows.
 */
import { mkdtempSync } from 'node:fs';
import { testStore } from './test-store';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminDashboard } from '../../src/admin/dashboard';
import type { IAuthUser } from '../../src/auth/decide';
import { EndpointKeys } from '../../src/endpoints/keys';
import { EndpointService } from '../../src/endpoints/service';
import { EndpointUsage } from '../../src/endpoints/usage';
import { Store } from '../../src/store';
import { migrations } from '../../src/store/migrations';
import { controllerFixture } from './endpoints-fakes';

const alice: IAuthUser = {
  name: 'alice',
  groups: [],
  roles: ['researcher'],
  instructorOf: [],
  admin: false
};

function setup() {
  const store = testStore();
  const serving = controllerFixture(undefined, store);
  const endpoints = new EndpointService({
    config: serving.config,
    table: serving.table,
    controller: serving.controller,
    store
  });
  const keys = new EndpointKeys(store);
  const usage = new EndpointUsage(store);
  const dashboard = new AdminDashboard({
    store,
    tiers: [],
    endpoints,
    flushTokens: () => usage.flush()
  });
  const ep = endpoints.create(alice, {
    name: 'chat',
    model: 'tiny-random',
    provider: 'local'
  });
  const key = keys.create(ep.id, 'alice', { name: 'notebook' }).record;
  const spend = (prompt: number, completion: number) =>
    usage.record({
      keyId: key.id,
      endpointId: ep.id,
      promptTokens: prompt,
      completionTokens: completion,
      latencyMs: 3,
      error: false
    });
  const tokensOf = async (name: string) =>
    (await dashboard.usage('user')).rows.find(r => r.name === name)?.tokens;
  return { store, endpoints, keys, usage, ep, key, spend, tokensOf };
}

describe('endpoint usage accounting', () => {
  it('keeps the tokens in the admin usage report after the endpoint is deleted', async () => {
    const { store, endpoints, keys, usage, ep, key, spend, tokensOf } = setup();
    spend(100, 55);
    usage.flush();
    expect(await tokensOf('alice')).toBe(155);

    await endpoints.delete(alice, ep.id);
    expect(keys.get(key.id)).toBeUndefined();
    expect(await tokensOf('alice')).toBe(155);
    expect(
      store.db
        .prepare(
          'SELECT owner, endpoint_owner, endpoint_name, key_name FROM endpoint_usage'
        )
        .all()
    ).toEqual([
      {
        owner: 'alice',
        endpoint_owner: 'alice',
        endpoint_name: 'chat',
        key_name: 'notebook'
      }
    ]);
  });

  it('writes tokens counted before the delete but not yet flushed', async () => {
    const { endpoints, ep, spend, tokensOf } = setup();
    spend(10, 20);
    await endpoints.delete(alice, ep.id);
    expect(await tokensOf('alice')).toBe(30);
  });

  it('migration 11 keeps existing usage and fills in the names', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hpcb-usage-')), 'b.db');
    const old = new Store(
      path,
      migrations.filter(m => m.version < 11)
    );
    old.db
      .prepare(
        `INSERT INTO endpoints (id, owner, name, created_at, record)
         VALUES ('e1', 'bob', 'shared', '2026-01-01T00:00:00Z', '{}')`
      )
      .run();
    old.db
      .prepare(
        `INSERT INTO endpoint_keys (id, endpoint_id, owner, name, key_hash, prefix, created_at)
         VALUES ('k1', 'e1', 'alice', 'lab', 'h', 'hpcb_x', '2026-01-01T00:00:00Z')`
      )
      .run();
    old.db
      .prepare(
        `INSERT INTO endpoint_usage VALUES ('k1', 'e1', 100, 2, 0, 40, 2, 5.5, 2, '[2,3.5]')`
      )
      .run();
    old.close();

    const store = new Store(path);
    expect(store.schemaVersion()).toBe(migrations.at(-1)?.version);
    expect(store.db.prepare('SELECT * FROM endpoint_usage').all()).toEqual([
      expect.objectContaining({
        key_id: 'k1',
        endpoint_id: 'e1',
        owner: 'alice',
        endpoint_owner: 'bob',
        endpoint_name: 'shared',
        key_name: 'lab',
        prompt_tokens: 40,
        completion_tokens: 2
      })
    ]);
    store.db.prepare("DELETE FROM endpoints WHERE id = 'e1'").run();
    expect(
      store.db.prepare('SELECT COUNT(*) AS n FROM endpoint_usage').get()
    ).toEqual({ n: 1 });
    store.close();
  });
});
