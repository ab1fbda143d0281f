/**
 * The store on PostgreSQL (HPCB_TEST_PG_URL, e.g. postgres://hpcb:hpcb@127.0.0.1:5433/hpcb):
 * the same schema as SQLite's, the database port's behaviour, and copy-store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { Store } from '../../src/store';
import { copyStore } from '../../src/store/copy';
import { PgDatabase } from '../../src/store/pg-database';
import { freshPgSchemaUrl } from '../unit/test-store';

const base = process.env.HPCB_TEST_PG_URL ?? '';
if (base === '') {
  throw new Error(
    'set HPCB_TEST_PG_URL to a PostgreSQL database for these tests'
  );
}

interface IColumn {
  table: string;
  column: string;
  type: string;
  notNull: boolean;
}

const TYPES: Record<string, string> = {
  INTEGER: 'bigint',
  TEXT: 'text',
  REAL: 'double precision',
  BLOB: 'bytea'
};

function sqliteColumns(db: Database): IColumn[] {
  return (
    db
      .prepare(
        `SELECT m.name AS t, c.name AS c, c.type AS type, c."notnull" AS nn, c.pk AS pk
           FROM sqlite_master m, pragma_table_info(m.name) c
          WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`
      )
      .all() as { t: string; c: string; type: string; nn: number; pk: number }[]
  ).map(r => ({
    table: r.t,
    column: r.c,
    type: TYPES[r.type] ?? r.type,
    // SQLite lets a primary key column without NOT NULL hold NULL; PostgreSQL does not.
    notNull: r.nn === 1 || r.pk > 0
  }));
}

function pgColumns(pg: PgDatabase): IColumn[] {
  return (
    pg.execNative(
      `SELECT table_name AS t, column_name AS c, data_type AS type, is_nullable AS n
         FROM information_schema.columns
        WHERE table_schema = current_schema() AND column_name <> 'rowid'`
    ) as { t: string; c: string; type: string; n: string }[]
  ).map(r => ({
    table: r.t,
    column: r.c,
    type: r.type,
    notNull: r.n === 'NO'
  }));
}

const sorted = (columns: IColumn[]) =>
  columns.sort((a, b) =>
    `${a.table}.${a.column}`.localeCompare(`${b.table}.${b.column}`)
  );

function pgStore(): { store: Store; pg: PgDatabase } {
  const pg = new PgDatabase(freshPgSchemaUrl(base));
  return { store: new Store(pg), pg };
}

describe('the store on PostgreSQL', () => {
  const opened: Store[] = [];
  const open = () => {
    const s = pgStore();
    opened.push(s.store);
    return s;
  };
  afterAll(() => opened.forEach(s => s.close()));

  it('has the tables and columns the migrations give SQLite', () => {
    const sqlite = new Store(':memory:');
    const { store, pg } = open();
    expect(store.schemaVersion()).toBe(sqlite.schemaVersion());
    expect(sorted(pgColumns(pg))).toEqual(
      sorted(sqliteColumns(sqlite.db as Database))
    );
    sqlite.close();
  });

  it('returns integers and sums as numbers and the column user by its name', () => {
    const { store } = open();
    store.audit({ user: 'ada', action: 'a', details: { outcome: 'ok' } });
    store.audit({ user: 'ada', action: 'b' });
    const [newest] = store.auditLog({ user: 'ada' });
    expect(newest).toMatchObject({ id: 2, user: 'ada', action: 'b' });
    const row = store.db
      .prepare('SELECT COUNT(*) AS n, SUM(id) AS s, MAX(id) AS m FROM audit')
      .get();
    expect(row).toEqual({ n: 2, s: 3, m: 2 });
  });

  it('reports changes and the new key, binds @names, rolls a failed transaction back', () => {
    const { store } = open();
    const db = store.db;
    const insert = db.prepare(
      "INSERT INTO audit (ts, user, action, details) VALUES (?, ?, ?, '{}') RETURNING id"
    );
    expect(insert.run('t', 'u', 'x')).toEqual({
      changes: 1,
      lastInsertRowid: 1
    });
    expect(
      db
        .prepare('UPDATE audit SET action = @a WHERE user = @u')
        .run({ a: 'y', u: 'u' }).changes
    ).toBe(1);
    const failing = db.transaction(() => {
      insert.run('t', 'u', 'z');
      throw new Error('no');
    });
    expect(() => failing.immediate()).toThrow('no');
    const nested = db.transaction(() => {
      insert.run('t', 'v', 'kept');
      expect(() =>
        db.transaction(() => {
          insert.run('t', 'v', 'dropped');
          throw new Error('inner');
        })()
      ).toThrow('inner');
    });
    nested();
    expect(db.prepare('SELECT action FROM audit ORDER BY id').all()).toEqual([
      { action: 'y' },
      { action: 'kept' }
    ]);
  });

  it('stores text with NUL (a separator of storage keys) and finds it by prefix', () => {
    const { store } = open();
    const odd = ['a\0b', 'a\uffff0b', 'a\uffffb', 'a\0\uffff\0'];
    const insert = store.db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?)'
    );
    odd.forEach((key, i) => insert.run(key, key + String(i)));
    expect(
      store.db.prepare('SELECT key, value FROM meta ORDER BY rowid').all()
    ).toEqual(odd.map((key, i) => ({ key, value: key + String(i) })));
    expect(
      store.db
        .prepare(
          'SELECT key FROM meta WHERE substr(key, 1, length(CAST(? AS TEXT))) = ?'
        )
        .all('a\0', 'a\0')
    ).toEqual([{ key: 'a\0b' }, { key: 'a\0\uffff\0' }]);
  });

  it('keeps a unique violation an error with its SQLSTATE', () => {
    const { store } = open();
    store.setMeta('k', 'v1');
    store.setMeta('k', 'v2');
    expect(store.getMeta('k')).toBe('v2');
    expect(() =>
      store.db.prepare("INSERT INTO meta (key, value) VALUES ('k', 'x')").run()
    ).toThrow(expect.objectContaining({ code: '23505' }) as Error);
  });

  it('copies every row of a SQLite store, ids and identity sequences included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hpcb-copy-'));
    try {
      const sqlite = new Store(join(dir, 'bridge.db'));
      sqlite.audit({ user: 'ada', action: 'one' });
      sqlite.audit({ user: 'bob', action: 'two' });
      sqlite.setMeta('version', '1');
      sqlite.db
        .prepare(
          "INSERT INTO endpoints (id, owner, name, created_at, record) VALUES ('e1', 'ada', 'm', 't', '{}')"
        )
        .run();
      sqlite.db
        .prepare(
          "INSERT INTO replicas (id, endpoint_id, state, created_at, record) VALUES ('r1', 'e1', 'ready', 't', '{}')"
        )
        .run();
      const { store, pg } = open();
      const report = copyStore(sqlite, store, pg);
      expect(report.tables).toEqual(
        expect.arrayContaining([
          { table: 'audit', rows: 2 },
          { table: 'meta', rows: 1 },
          { table: 'endpoints', rows: 1 },
          { table: 'replicas', rows: 1 }
        ])
      );
      const order = report.tables.map(t => t.table);
      expect(order.indexOf('endpoints')).toBeLessThan(
        order.indexOf('replicas')
      );
      expect(store.auditLog().map(r => [r.id, r.user])).toEqual([
        [2, 'bob'],
        [1, 'ada']
      ]);
      store.audit({ user: 'cy', action: 'three' });
      expect(store.auditLog({ limit: 1 })[0]).toMatchObject({
        id: 3,
        user: 'cy'
      });
      expect(() => copyStore(sqlite, store, pg)).toThrow(/not empty/);
      sqlite.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
