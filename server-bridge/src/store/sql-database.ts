/**
 * The database port of the store's tables: the part of better-sqlite3's API the
 * repositories use. better-sqlite3's `Database` is its SQLite implementation as it is
 * (no wrapper on the hot path); `PgDatabase` (./pg-database.ts) is the PostgreSQL one.
 * Parameters are `?` (positional) or `@name` (one object of values).
 */
export interface ISqlRunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

export interface ISqlStatement {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): ISqlRunResult;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the shape better-sqlite3 declares
export type SqlTransactionBody = (...args: any[]) => unknown;

/** The arguments of `F`, spelled as better-sqlite3 spells them (so its types match). */
export type SqlArguments<F extends SqlTransactionBody> = F extends (
  ...args: infer A
) => unknown
  ? A
  : never;

/** `fn` in a transaction; `immediate` takes the write lock before the first read. */
export interface ISqlTransaction<F extends SqlTransactionBody> {
  (...args: SqlArguments<F>): ReturnType<F>;
  immediate(...args: SqlArguments<F>): ReturnType<F>;
}

export interface ISqlDatabase {
  readonly open: boolean;
  prepare(sql: string): ISqlStatement;
  /** Runs one or more statements without parameters (migrations). */
  exec(sql: string): unknown;
  transaction<F extends SqlTransactionBody>(fn: F): ISqlTransaction<F>;
  close(): unknown;
}
