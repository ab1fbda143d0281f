/**
 * The `storage_usage` table (migration 21): each scope's measured usage with the writes
 * settled since, shared by the bridge replicas so that a quota check on one sees the
 * writes another has finished.
 */
import { z } from 'zod';
import type { Store } from '../../store';

export interface IUsageFigure {
  /** Null: unknown, to be measured again. */
  bytes: number | null;
  measuredAt: string;
  /** Counts the changes; a walk writes its figure only if none happened since it began. */
  version: number;
}

const FigureRowSchema = z.object({
  bytes: z.number().int().nullable(),
  measured_at: z.string(),
  version: z.number().int()
});

export class UsageFigureTable {
  constructor(private readonly store: Store) {}

  get(scope: string): IUsageFigure | undefined {
    const row = this.store
      .statement(
        'SELECT bytes, measured_at, version FROM storage_usage WHERE scope = ?'
      )
      .get(scope);
    if (row === undefined) {
      return undefined;
    }
    const r = FigureRowSchema.parse(row);
    return { bytes: r.bytes, measuredAt: r.measured_at, version: r.version };
  }

  /**
   * Stores a walk's figure unless the scope changed since the walk began (`version`
   * then read); true when stored.
   */
  record(
    scope: string,
    bytes: number,
    measuredAt: string,
    version: number
  ): boolean {
    return (
      this.store
        .statement(
          `INSERT INTO storage_usage (scope, bytes, measured_at, version) VALUES (@scope, @bytes, @measuredAt, @next)
           ON CONFLICT (scope) DO UPDATE SET bytes = excluded.bytes,
             measured_at = excluded.measured_at, version = excluded.version
           WHERE storage_usage.version = @version`
        )
        .run({ scope, bytes, measuredAt, version, next: version + 1 })
        .changes === 1
    );
  }

  /** Adds `delta` bytes to a known figure (never below 0); an unknown one stays unknown. */
  add(scope: string, delta: number, now: string): void {
    this.store
      .statement(
        `INSERT INTO storage_usage (scope, bytes, measured_at, version) VALUES (@scope, NULL, @now, 1)
         ON CONFLICT (scope) DO UPDATE SET version = storage_usage.version + 1,
           bytes = CASE WHEN storage_usage.bytes + @delta < 0 THEN 0
                        ELSE storage_usage.bytes + @delta END`
      )
      .run({ scope, delta: Math.round(delta), now });
  }

  /** Makes the figure unknown (after a change of unknown size). */
  invalidate(scope: string, now: string): void {
    this.store
      .statement(
        `INSERT INTO storage_usage (scope, bytes, measured_at, version) VALUES (?, NULL, ?, 1)
         ON CONFLICT (scope) DO UPDATE SET bytes = NULL, version = storage_usage.version + 1`
      )
      .run(scope, now);
  }
}
