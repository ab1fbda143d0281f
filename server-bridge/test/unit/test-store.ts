/**
 * The store of a unit test: SQLite in memory, or, when HPCB_TEST_PG_URL names a
 * PostgreSQL database, a schema of its own there (fresh, so each test starts empty).
 */
import { randomBytes } from 'node:crypto';
import { Store } from '../../src/store';
import type { IMigration } from '../../src/store/migrations';
import { PgDatabase } from '../../src/store/pg-database';

/** A PostgreSQL URL whose connections use a new, empty schema. */
export function freshPgSchemaUrl(base: string): string {
  const schema = `hpcb_test_${randomBytes(6).toString('hex')}`;
  const admin = new PgDatabase(base);
  try {
    admin.execNative(`CREATE SCHEMA ${schema}`);
  } finally {
    admin.close();
  }
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

const pgUrl = process.env.HPCB_TEST_PG_URL ?? '';
const opened: Store[] = [];

if (pgUrl !== '') {
  // Each store holds a connection until the test file ends.
  afterAll(() => {
    for (const store of opened.splice(0)) {
      store.close();
    }
  });
}

export function testStore(migrations?: readonly IMigration[]): Store {
  if (pgUrl === '') {
    return new Store(':memory:', migrations);
  }
  const store = new Store(new PgDatabase(freshPgSchemaUrl(pgUrl)), migrations);
  opened.push(store);
  return store;
}
