/**
 * `hpc-bridge copy-store`: every row of a SQLite store into an empty PostgreSQL one, in
 * one transaction. Both are migrated to this bridge's schema first; ids (and SQLite's
 * rowids, which some lists order by) are kept, and identity sequences moved past them.
 */
import type { Database } from 'better-sqlite3';
import type { PgDatabase } from './pg-database';
import type { Store } from './index';

export interface ICopyReport {
  /** Rows copied per table, in the order they were copied. */
  tables: { table: string; rows: number }[];
}

/** SQLite's tables with each one after the tables it references. */
export function tablesInReferenceOrder(db: Database): string[] {
  const tables = (
    db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
      )
      .all() as { name: string }[]
  ).map(r => r.name);
  const ordered: string[] = [];
  const visit = (table: string, path: readonly string[]) => {
    if (ordered.includes(table) || path.includes(table)) {
      return;
    }
    const parents = db
      .prepare('SELECT "table" AS parent FROM pragma_foreign_key_list(?)')
      .all(table) as { parent: string }[];
    for (const { parent } of parents) {
      visit(parent, [...path, table]);
    }
    ordered.push(table);
  };
  for (const table of tables) {
    visit(table, []);
  }
  return ordered;
}

const quoted = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Rows per INSERT: PostgreSQL takes at most 65535 parameters in a statement. */
const BATCH_ROWS = 200;

export function copyStore(from: Store, to: Store, pg: PgDatabase): ICopyReport {
  const source = from.db as Database;
  if (from.schemaVersion() !== to.schemaVersion()) {
    throw new Error(
      `schema versions differ: ${from.schemaVersion()} and ${to.schemaVersion()}`
    );
  }
  const tables = tablesInReferenceOrder(source).filter(
    t => t !== 'schema_version'
  );
  for (const table of tables) {
    const [row] = pg.execNative(`SELECT 1 FROM ${quoted(table)} LIMIT 1`);
    if (row !== undefined) {
      throw new Error(`the PostgreSQL store is not empty (table ${table})`);
    }
  }
  const report: ICopyReport = { tables: [] };
  pg.transaction(() => {
    for (const table of tables) {
      report.tables.push({ table, rows: copyTable(source, pg, table) });
    }
    advanceIdentities(pg);
  })();
  return report;
}

function copyTable(source: Database, pg: PgDatabase, table: string): number {
  const rows = source
    .prepare(`SELECT rowid AS rowid, * FROM ${quoted(table)}`)
    .all() as Record<string, unknown>[];
  const first = rows[0];
  if (first === undefined) {
    return 0;
  }
  const columns = Object.keys(first);
  const names = columns.map(quoted).join(', ');
  for (let i = 0; i < rows.length; i += BATCH_ROWS) {
    const batch = rows.slice(i, i + BATCH_ROWS);
    const values = batch.flatMap(r => columns.map(c => r[c]));
    const tuples = batch.map(
      (_, b) =>
        `(${columns.map((__, c) => `$${b * columns.length + c + 1}`).join(', ')})`
    );
    pg.execNative(
      `INSERT INTO ${quoted(table)} (${names}) VALUES ${tuples.join(', ')}`,
      values
    );
  }
  return rows.length;
}

/** Each identity column's sequence past the highest value copied. */
function advanceIdentities(pg: PgDatabase): void {
  const identities = pg.execNative(
    `SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND is_identity = 'YES'`
  ) as { table_name: string; column_name: string }[];
  for (const { table_name: table, column_name: column } of identities) {
    pg.execNative(
      `SELECT setval(pg_get_serial_sequence($1, $2),
         COALESCE((SELECT MAX(${quoted(column)}) FROM ${quoted(table)}), 0) + 1, false)`,
      [quoted(table), column]
    );
  }
}
