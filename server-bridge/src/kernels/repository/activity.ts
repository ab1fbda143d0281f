/** The `kernel_activity` table (migration 23): relayed traffic per kernel and replica. */
import { z } from 'zod';
import { LIVE_REPLICAS } from '../../replicas/repository/heartbeats';
import type { Store } from '../../store';

export interface ISeenActivity {
  /** The latest relayed traffic, epoch ms. */
  lastAt: number;
  /** A live replica relays a cell that runs. */
  busy: boolean;
}

const RowSchema = z.object({
  kernel_id: z.string(),
  last_at: z.number(),
  busy: z.number()
});

export class KernelActivityTable {
  constructor(private readonly store: Store) {}

  write(
    kernelId: string,
    replica: string,
    lastAt: number,
    busy: boolean
  ): void {
    this.store
      .statement(
        `INSERT INTO kernel_activity (kernel_id, replica, last_at, busy) VALUES (?, ?, ?, ?)
         ON CONFLICT (kernel_id, replica) DO UPDATE
           SET last_at = excluded.last_at, busy = excluded.busy`
      )
      .run(kernelId, replica, lastAt, busy ? 1 : 0);
  }

  /**
   * Per kernel, the latest traffic the replicas other than `self` relayed, and whether a
   * cell runs on one of them seen since `aliveSince` (a dead replica's cell ran on a
   * connection that is gone).
   */
  seenByOthers(self: string, aliveSince: number): Map<string, ISeenActivity> {
    const rows = this.store
      .statement(
        `SELECT kernel_id, MAX(last_at) AS last_at,
                MAX(CASE WHEN busy = 1 AND replica IN (${LIVE_REPLICAS})
                         THEN 1 ELSE 0 END) AS busy
           FROM kernel_activity WHERE replica <> ? GROUP BY kernel_id`
      )
      .all(aliveSince, self)
      .map(row => RowSchema.parse(row));
    return new Map(
      rows.map(r => [r.kernel_id, { lastAt: r.last_at, busy: r.busy === 1 }])
    );
  }

  /** Deletes the rows of kernels that ended or are gone. */
  dropEnded(): void {
    this.store
      .statement(
        'DELETE FROM kernel_activity WHERE kernel_id NOT IN (SELECT id FROM kernels WHERE terminal = 0)'
      )
      .run();
  }
}
