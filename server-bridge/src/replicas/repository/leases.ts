/** The `leases` table: who holds each named lease, until when (epoch ms). */
import { z } from 'zod';
import type { Store } from '../../store';

export interface ILeaseRecord {
  holder: string;
  /** Epoch milliseconds; past it, any replica may take the lease. */
  expiresAt: number;
  acquiredAt: string;
}

const RowSchema = z.object({
  holder: z.string(),
  expires_at: z.number(),
  acquired_at: z.string()
});

export class LeaseTable {
  constructor(private readonly store: Store) {}

  /**
   * Takes or renews `name` for `holder` until `until`, in one conditional statement: only
   * when the holder already has it or it expired before `now` (no row yet: the insert).
   * True when `holder` holds it now.
   */
  take(name: string, holder: string, now: Date, until: number): boolean {
    const renewed = this.store
      .statement(
        `UPDATE leases
            SET expires_at = ?,
                acquired_at = CASE WHEN holder = ? THEN acquired_at ELSE ? END,
                holder = ?
          WHERE name = ? AND (holder = ? OR expires_at < ?)`
      )
      .run(
        until,
        holder,
        now.toISOString(),
        holder,
        name,
        holder,
        now.getTime()
      );
    if (renewed.changes === 1) {
      return true;
    }
    const inserted = this.store
      .statement(
        `INSERT INTO leases (name, holder, expires_at, acquired_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO NOTHING`
      )
      .run(name, holder, until, now.toISOString());
    return inserted.changes === 1;
  }

  /** Gives the lease up (it expires now), if `holder` has it. */
  release(name: string, holder: string): void {
    this.store
      .statement(
        'UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ?'
      )
      .run(name, holder);
  }

  get(name: string): ILeaseRecord | undefined {
    const row = this.store
      .statement(
        'SELECT holder, expires_at, acquired_at FROM leases WHERE name = ?'
      )
      .get(name);
    if (row === undefined) {
      return undefined;
    }
    const r = RowSchema.parse(row);
    return {
      holder: r.holder,
      expiresAt: r.expires_at,
      acquiredAt: r.acquired_at
    };
  }
}
