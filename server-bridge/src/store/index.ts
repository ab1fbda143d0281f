/**
 * The embedded store (SQLite through better-sqlite3). Migrations run at open, each in
 * its own transaction, recorded in `schema_version`.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { migrations as defaultMigrations, type IMigration } from './migrations';

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

export class Store {
  /** The database, for the store's table modules (credentials, jobs). */
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  /** Opens (creating if needed) the database at `path` (`:memory:` for tests) and migrates it. */
  constructor(
    path: string,
    migrations: readonly IMigration[] = defaultMigrations
  ) {
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true });
    }
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
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
  statement(sql: string): Database.Statement {
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

  private migrate(migrations: readonly IMigration[]): void {
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
