/**
 * Versioned schema migrations, applied in order. Never edit a released entry:
 * append a new one.
 */
export interface IMigration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly IMigration[] = [
  {
    version: 1,
    name: 'meta and audit',
    sql: `
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      CREATE TABLE audit (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        ts      TEXT NOT NULL,
        user    TEXT NOT NULL,
        action  TEXT NOT NULL,
        target  TEXT,
        details TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX audit_user_ts ON audit (user, ts);
    `
  }
];
