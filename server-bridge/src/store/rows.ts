/** Helpers of the features' repositories: row mapping, inserts and optional filters. */
import type { ISqlDatabase } from './sql-database';
import type { z } from 'zod';

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

const camelOf = (column: string): string =>
  column.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** A row with its snake_case column names in camelCase. */
export type Camelized<T> = { [K in keyof T as CamelCase<K & string>]: T[K] };

/** The row (parsed by its schema) with camelCase names: `created_at` → `createdAt`. */
export function camelized<T extends Record<string, unknown>>(
  row: T
): Camelized<T> {
  return Object.fromEntries(
    Object.entries(row).map(([column, value]) => [camelOf(column), value])
  ) as Camelized<T>;
}

export type SqlValue = string | number | null;

/**
 * ` WHERE a AND b` of the conditions whose value is defined ('' when none), and their
 * arguments in order; each condition holds one `?`.
 */
export function whereDefined(
  conditions: readonly (readonly [string, SqlValue | undefined])[]
): { sql: string; args: SqlValue[] } {
  const used = conditions.filter(
    (c): c is readonly [string, SqlValue] => c[1] !== undefined
  );
  return {
    sql:
      used.length === 0
        ? ''
        : ` WHERE ${used.map(([sql]) => sql).join(' AND ')}`,
    args: used.map(([, value]) => value)
  };
}

/**
 * `INSERT INTO table` of one record: its columns are the row schema's (snake_case), their
 * values the record's camelCase fields; booleans are stored as 1 and 0.
 */
export function insertRow(
  db: ISqlDatabase,
  table: string,
  columns: readonly string[],
  record: object
): void {
  const fields = record as Record<string, SqlValue | boolean>;
  const values = columns.map(column => {
    const value = fields[camelOf(column)];
    return typeof value === 'boolean' ? (value ? 1 : 0) : value;
  });
  db.prepare(
    `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`
  ).run(...values);
}

/** A table of records found by their `id`; `recordOf` parses a row into a record. */
export class IdTable<R extends object> {
  constructor(
    protected readonly db: ISqlDatabase,
    protected readonly table: string,
    private readonly rowSchema: z.ZodObject,
    protected readonly recordOf: (row: unknown) => R
  ) {}

  insert(record: R): void {
    insertRow(this.db, this.table, Object.keys(this.rowSchema.shape), record);
  }

  get(id: string): R | undefined {
    const row: unknown = this.db
      .prepare(`SELECT * FROM ${this.table} WHERE id = ?`)
      .get(id);
    return row === undefined ? undefined : this.recordOf(row);
  }
}
