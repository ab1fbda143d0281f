/**
 * The store: SQLite through better-sqlite3 (embedded, the default) or PostgreSQL
 * (`store.url`, ./pg-database.ts), behind the same database port. Migrations run at
 * open, each in its own transaction, recorded in `schema_version`.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { migrations as defaultMigrations, type IMigration } from './migrations';
import { PgDatabase } from './pg-database';
import type { ISqlDatabase, ISqlStatement } from './sql-database';

export type { ISqlDatabase } from './sql-database';

export interface IAuditEntry {
  user: string;
  action: string;
  target?: string;
  details?: Record<string, unknown>;
}

export interface IAuditRecord extends Required<IAuditEntry> {
  id: number;
  ts: string;
}

export const AuditRowSchema = z.object({
  id: z.number(),
  ts: z.string(),
  user: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  details: z.string()
});

function openSqlite(path: string): Database.Database {
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true });
  }
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

/** Where the store lives: a SQLite file, or a PostgreSQL database when `url` is given. */
export interface IStoreLocation {
  path?: string;
  url?: string;
  /** PostgreSQL's password, added to the url. */
  password?: string;
}

/** The configured store, migrated. */
export function openStore(
  location: IStoreLocation,
  migrations: readonly IMigration[] = defaultMigrations
): Store {
  if (location.url !== undefined) {
    const url = new URL(location.url);
    if (location.password !== undefined) {
      url.password = encodeURIComponent(location.password);
    }
    return new Store(new PgDatabase(url.toString()), migrations);
  }
  if (location.path === undefined) {
    throw new Error('the store needs a path or a url');
  }
  return new Store(location.path, migrations);
}

export class Store {
  /** The database, for the store's table modules (credentials, jobs). */
  readonly db: ISqlDatabase;
  private readonly statements = new Map<string, ISqlStatement>();

  /**
   * Opens (creating if needed) the SQLite database at `path` (`:memory:` for tests), or
   * takes an open database (PostgreSQL: `openStore`), and migrates it.
   */
  constructor(
    database: string | ISqlDatabase,
    migrations: readonly IMigration[] = defaultMigrations
  ) {
    this.db = typeof database === 'string' ? openSqlite(database) : database;
    try {
      this.migrate(migrations);
    } catch (e) {
      this.db.close();
      throw e;
    }
  }

  /**
   * `sql` prepared on its first use and kept, for the queries of every gateway request
   * (better-sqlite3 compiles a statement anew on each `prepare`).
   */
  statement(sql: string): ISqlStatement {
    let prepared = this.statements.get(sql);
    if (prepared === undefined) {
      prepared = this.db.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared;
  }

  /**
   * Runs `work` as one transaction that holds the write lock from its first statement
   * (SQLite's BEGIN IMMEDIATE), so that a limit checked by its reads still holds when
   * it writes, whatever other replicas on the same database do meanwhile. `work` must
   * not await.
   */
  exclusive<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  /** The highest migration applied. */
  schemaVersion(): number {
    const row = this.db
      .prepare('SELECT MAX(version) AS v FROM schema_version')
      .get() as { v: number | null };
    return row.v ?? 0;
  }

  /**
   * Under the write lock: replicas that start together on one database migrate it one
   * after the other (the second finds the work done), never both at once.
   */
  private migrate(migrations: readonly IMigration[]): void {
    this.db.transaction(() => this.migrateLocked(migrations)).immediate();
  }

  private migrateLocked(migrations: readonly IMigration[]): void {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)'
    );
    const current = this.schemaVersion();
    const sorted = [...migrations].sort((a, b) => a.version - b.version);
    const latest = sorted.at(-1)?.version ?? 0;
    if (current > latest) {
      throw new Error(
        `database schema version ${current} is newer than this bridge knows (${latest})`
      );
    }
    const record = this.db.prepare(
      'INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)'
    );
    for (const m of sorted) {
      if (m.version <= current) {
        continue;
      }
      this.db.transaction(() => {
        this.db.exec(m.sql);
        record.run(m.version, m.name, new Date().toISOString());
      })();
    }
  }

  getMeta(key: string): string | undefined {
    const row = this.db
      .prepare('SELECT value FROM meta WHERE key = ?')
      .get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'
      )
      .run(key, value);
  }

  audit(entry: IAuditEntry): void {
    this.db
      .prepare(
        'INSERT INTO audit (ts, user, action, target, details) VALUES (?, ?, ?, ?, ?)'
      )
      .run(
        new Date().toISOString(),
        entry.user,
        entry.action,
        entry.target ?? null,
        JSON.stringify(entry.details ?? {})
      );
  }

  /** The newest audit records first. */
  auditLog(options: { user?: string; limit?: number } = {}): IAuditRecord[] {
    const limit = options.limit ?? 100;
    const rows =
      options.user === undefined
        ? this.db
            .prepare('SELECT * FROM audit ORDER BY id DESC LIMIT ?')
            .all(limit)
        : this.db
            .prepare(
              'SELECT * FROM audit WHERE user = ? ORDER BY id DESC LIMIT ?'
            )
            .all(options.user, limit);
    return rows.map(r => {
      const row = AuditRowSchema.parse(r);
      return {
        ...row,
        target: row.target ?? '',
        details: z
          .record(z.string(), z.unknown())
          .parse(JSON.parse(row.details))
      };
    });
  }

  close(): void {
    if (this.db.open) {
      this.db.close();
    }
  }
}
