/**
 * The `triggers` and `trigger_cursors` tables (migration 13): each trigger's rule as its
 * contract JSON, the identity its runs act with, and what its source has seen so far.
 */
import { z } from 'zod';
import type { IAuthUser } from '../../auth/decide';
import {
  RoleSchema,
  TriggerActionSchema,
  TriggerLimitsSchema,
  TriggerSourceSchema,
  TriggerStateSchema,
  type TriggerAction,
  type TriggerLimits,
  type TriggerSource
} from '../../contract';
import type { Store } from '../../store';

export interface ITriggerRecord {
  id: string;
  owner: string;
  name: string;
  source: TriggerSource;
  action: TriggerAction;
  limits: TriggerLimits;
  state: 'active' | 'paused';
  /** The owner as they were when they made the trigger. */
  identity: IAuthUser;
  createdAt: string;
  updatedAt: string;
}

const IdentitySchema = z.object({
  name: z.string(),
  groups: z.array(z.string()),
  roles: z.array(RoleSchema),
  instructorOf: z.array(z.string()),
  admin: z.boolean()
});

const TriggerRowSchema = z.object({
  id: z.string(),
  owner: z.string(),
  name: z.string(),
  source: z.string(),
  action: z.string(),
  limits: z.string(),
  state: TriggerStateSchema,
  identity: z.string(),
  created_at: z.string(),
  updated_at: z.string()
});

const CursorRowSchema = z.object({ cursor: z.string() });
const CountRowSchema = z.object({ n: z.number().int() });

function recordOf(row: unknown): ITriggerRecord {
  const r = TriggerRowSchema.parse(row);
  return {
    id: r.id,
    owner: r.owner,
    name: r.name,
    source: TriggerSourceSchema.parse(JSON.parse(r.source)),
    action: TriggerActionSchema.parse(JSON.parse(r.action)),
    limits: TriggerLimitsSchema.parse(JSON.parse(r.limits)),
    state: r.state,
    identity: IdentitySchema.parse(JSON.parse(r.identity)),
    createdAt: r.created_at,
    updatedAt: r.updated_at
  };
}

export class TriggerTable {
  constructor(private readonly store: Store) {}

  /** Stores the trigger with its source's first cursor, in one transaction. */
  insert(rec: ITriggerRecord, cursor: unknown): void {
    const db = this.store.db;
    db.transaction(() => {
      db.prepare(
        `INSERT INTO triggers (id, owner, name, source, action, limits, state, identity,
           created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
      ).run(
        rec.id,
        rec.owner,
        rec.name,
        JSON.stringify(rec.source),
        JSON.stringify(rec.action),
        JSON.stringify(rec.limits),
        rec.state,
        JSON.stringify(rec.identity),
        rec.createdAt,
        rec.updatedAt
      );
      this.setCursor(rec.id, cursor, rec.createdAt);
    })();
  }

  get(id: string): ITriggerRecord | undefined {
    const row = this.store.db
      .prepare('SELECT * FROM triggers WHERE id = ?')
      .get(id);
    return row === undefined ? undefined : recordOf(row);
  }

  /** The owner's triggers, newest first. */
  byOwner(owner: string): ITriggerRecord[] {
    return this.store.db
      .prepare(
        'SELECT * FROM triggers WHERE owner = ? ORDER BY created_at DESC, id'
      )
      .all(owner)
      .map(recordOf);
  }

  countOf(owner: string): number {
    return CountRowSchema.parse(
      this.store.db
        .prepare('SELECT COUNT(*) AS n FROM triggers WHERE owner = ?')
        .get(owner)
    ).n;
  }

  /** Every trigger, oldest first (the runner's scan order). */
  all(): ITriggerRecord[] {
    return this.store.db
      .prepare('SELECT * FROM triggers ORDER BY created_at, id')
      .all()
      .map(recordOf);
  }

  update(
    id: string,
    change: Pick<ITriggerRecord, 'name' | 'state' | 'limits' | 'updatedAt'>
  ): void {
    this.store.db
      .prepare(
        'UPDATE triggers SET name = ?, state = ?, limits = ?, updated_at = ? WHERE id = ?'
      )
      .run(
        change.name,
        change.state,
        JSON.stringify(change.limits),
        change.updatedAt,
        id
      );
  }

  /** Removes the trigger, its cursor and its runs (their jobs are left alone). */
  delete(id: string): void {
    this.store.db.prepare('DELETE FROM triggers WHERE id = ?').run(id);
  }

  cursor(id: string): unknown {
    const row = this.store.db
      .prepare('SELECT cursor FROM trigger_cursors WHERE trigger_id = ?')
      .get(id);
    return row === undefined
      ? undefined
      : (JSON.parse(CursorRowSchema.parse(row).cursor) as unknown);
  }

  /** Writes the cursor; call inside the transaction that records its events. */
  setCursor(id: string, cursor: unknown, at: string): void {
    this.store.db
      .prepare(
        `INSERT INTO trigger_cursors (trigger_id, cursor, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (trigger_id) DO UPDATE SET cursor = excluded.cursor,
           updated_at = excluded.updated_at`
      )
      .run(id, JSON.stringify(cursor), at);
  }
}
