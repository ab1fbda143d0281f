/**
 * The store's database port on PostgreSQL: statements translated once (./pg-dialect.ts)
 * and run synchronously on one connection (./pg-sync.ts). Transactions are BEGIN/COMMIT
 * on that connection (nested ones are savepoints); the calling thread is blocked while a
 * query runs, so nothing else of the process interleaves with them.
 */
import { ddlToPostgres, toPostgres, type IPgQuery } from './pg-dialect';
import { SyncPgConnection } from './pg-sync';
import type {
  ISqlDatabase,
  ISqlRunResult,
  ISqlStatement,
  ISqlTransaction,
  SqlArguments,
  SqlTransactionBody
} from './sql-database';

/** Key of the advisory lock an immediate transaction takes (SQLite's one writer). */
const WRITE_LOCK = 0x6870_6362;

class PgStatement implements ISqlStatement {
  constructor(
    private readonly connection: SyncPgConnection,
    private readonly query: IPgQuery
  ) {}

  get(...params: unknown[]): unknown {
    return this.rows(params)[0];
  }

  all(...params: unknown[]): unknown[] {
    return this.rows(params);
  }

  run(...params: unknown[]): ISqlRunResult {
    const result = this.connection.query(this.query.text, this.values(params));
    const first = result.rows[0];
    // An INSERT … RETURNING id gives its key as better-sqlite3's lastInsertRowid would.
    const id = first === undefined ? 0 : Object.values(first)[0];
    return {
      changes: result.rowCount,
      lastInsertRowid: typeof id === 'number' ? id : 0
    };
  }

  private rows(params: unknown[]): Record<string, unknown>[] {
    return this.connection.query(this.query.text, this.values(params)).rows;
  }

  /** better-sqlite3's binding: values, arrays of values, or one object of named ones. */
  private values(params: unknown[]): unknown[] {
    if (this.query.names.length > 0) {
      const named = params[0] as Record<string, unknown>;
      return this.query.names.map(name => named[name]);
    }
    return params.flat();
  }
}

export class PgDatabase implements ISqlDatabase {
  private readonly connection: SyncPgConnection;
  private readonly translated = new Map<string, IPgQuery>();
  private depth = 0;

  constructor(url: string) {
    this.connection = new SyncPgConnection(url);
  }

  get open(): boolean {
    return this.connection.open;
  }

  prepare(sql: string): ISqlStatement {
    let query = this.translated.get(sql);
    if (query === undefined) {
      query = toPostgres(sql);
      this.translated.set(sql, query);
    }
    return new PgStatement(this.connection, query);
  }

  /** Runs SQLite DDL (a migration), translated. */
  exec(sql: string): this {
    this.connection.query(ddlToPostgres(sql));
    return this;
  }

  /** Runs PostgreSQL's own SQL as it is. */
  execNative(
    sql: string,
    values?: readonly unknown[]
  ): Record<string, unknown>[] {
    return this.connection.query(sql, values).rows;
  }

  transaction<F extends SqlTransactionBody>(fn: F): ISqlTransaction<F> {
    const run =
      (immediate: boolean) =>
      (...args: SqlArguments<F>): ReturnType<F> =>
        this.inTransaction(immediate, () => fn(...args) as ReturnType<F>);
    return Object.assign(run(false), { immediate: run(true) });
  }

  close(): void {
    this.connection.close();
  }

  private inTransaction<R>(immediate: boolean, body: () => R): R {
    const savepoint = `sp${this.depth}`;
    if (this.depth === 0) {
      this.connection.query('BEGIN');
      if (immediate) {
        this.connection.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
      }
    } else {
      this.connection.query(`SAVEPOINT ${savepoint}`);
    }
    this.depth += 1;
    let result: R;
    try {
      result = body();
    } catch (e) {
      this.depth -= 1;
      this.connection.query(
        this.depth === 0 ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}`
      );
      throw e;
    }
    this.depth -= 1;
    this.connection.query(
      this.depth === 0 ? 'COMMIT' : `RELEASE SAVEPOINT ${savepoint}`
    );
    return result;
  }
}
