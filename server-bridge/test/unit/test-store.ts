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

export function testStore(migrations?: readonly IMigration[]): Store {
  const pg = process.env.HPCB_TEST_PG_URL;
  const database =
    pg === undefined || pg === ''
      ? ':memory:'
      : new PgDatabase(freshPgSchemaUrl(pg));
  return migrations === undefined
    ? new Store(database)
    : new Store(database, migrations);
}
