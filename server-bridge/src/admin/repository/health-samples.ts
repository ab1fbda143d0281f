/** The `health_samples` table (migration 6): one row per backend and check. */
import { z } from 'zod';
import type { ComponentHealth } from '../../contract';
import type { Store } from '../../store';

const RowSchema = z.object({
  ts: z.string(),
  backend: z.string(),
  status: z.enum(['ok', 'degraded', 'down']),
  latency_ms: z.number(),
  detail: z.string().nullable()
});
export type HealthSampleRow = z.infer<typeof RowSchema>;

export class HealthSampleTable {
  constructor(private readonly store: Store) {}

  /** Inserts one check of every backend at `ts` and drops samples before `dropBefore`. */
  record(
    ts: string,
    components: readonly ComponentHealth[],
    dropBefore: string
  ): void {
    const insert = this.store.db.prepare(
      'INSERT INTO health_samples (ts, backend, status, latency_ms, detail) VALUES (?, ?, ?, ?, ?)'
    );
    this.store.db.transaction(() => {
      for (const c of components) {
        insert.run(ts, c.name, c.status, c.latencyMs, c.detail ?? null);
      }
      this.store.db
        .prepare('DELETE FROM health_samples WHERE ts < ?')
        .run(dropBefore);
    })();
  }

  /** The samples from `from` on, oldest first (by backend within a check). */
  since(from: string): HealthSampleRow[] {
    return this.store.db
      .prepare(
        'SELECT ts, backend, status, latency_ms, detail FROM health_samples WHERE ts >= ? ORDER BY ts, backend'
      )
      .all(from)
      .map(r => RowSchema.parse(r));
  }
}
