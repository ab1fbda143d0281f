/** The `replica_heartbeats` table: when each replica started and was last seen. */
import { z } from 'zod';
import type { Store } from '../../store';

export interface IHeartbeat {
  id: string;
  startedAt: string;
  /** Epoch milliseconds. */
  seenAt: number;
}

const RowSchema = z.object({
  id: z.string(),
  started_at: z.string(),
  seen_at: z.number()
});

/** Rows of replicas seen at or after `?` (epoch ms), for `IN (…)` clauses. */
export const LIVE_REPLICAS =
  'SELECT id FROM replica_heartbeats WHERE seen_at >= ?';

export class HeartbeatTable {
  constructor(private readonly store: Store) {}

  beat(id: string, startedAt: string, seenAt: number): void {
    this.store
      .statement(
        `INSERT INTO replica_heartbeats (id, started_at, seen_at) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at,
                                        seen_at = excluded.seen_at`
      )
      .run(id, startedAt, seenAt);
  }

  remove(id: string): void {
    this.store.statement('DELETE FROM replica_heartbeats WHERE id = ?').run(id);
  }

  /** Replicas seen at or after `since` (epoch ms), longest running first. */
  seenSince(since: number): IHeartbeat[] {
    return this.store
      .statement(
        'SELECT id, started_at, seen_at FROM replica_heartbeats WHERE seen_at >= ? ORDER BY started_at, id'
      )
      .all(since)
      .map(row => {
        const r = RowSchema.parse(row);
        return { id: r.id, startedAt: r.started_at, seenAt: r.seen_at };
      });
  }

  /** Deletes the rows of replicas last seen before `before`; returns how many. */
  deleteBefore(before: number): number {
    return this.store
      .statement('DELETE FROM replica_heartbeats WHERE seen_at < ?')
      .run(before).changes;
  }
}
