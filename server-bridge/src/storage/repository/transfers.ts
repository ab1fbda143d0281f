/**
 * The `storage_transfers` table (migration 21): server-side copies and their progress,
 * so that any replica answers a transfer's state while the one that copies writes it.
 */
import { z } from 'zod';
import { type Transfer, TransferSchema } from '../../contract';
import type { Store } from '../../store';

const RowSchema = z.object({ owner: z.string(), record: z.string() });

export class TransferTable {
  constructor(private readonly store: Store) {}

  insert(owner: string, transfer: Transfer): void {
    this.store
      .statement(
        'INSERT INTO storage_transfers (id, owner, record, finished_at) VALUES (?, ?, ?, ?)'
      )
      .run(transfer.id, owner, JSON.stringify(transfer), transfer.finishedAt);
  }

  /** Writes the transfer's state and progress. */
  update(transfer: Transfer): void {
    this.store
      .statement(
        'UPDATE storage_transfers SET record = ?, finished_at = ? WHERE id = ?'
      )
      .run(JSON.stringify(transfer), transfer.finishedAt, transfer.id);
  }

  get(id: string): { owner: string; transfer: Transfer } | undefined {
    const row = this.store
      .statement('SELECT owner, record FROM storage_transfers WHERE id = ?')
      .get(id);
    if (row === undefined) {
      return undefined;
    }
    const r = RowSchema.parse(row);
    return {
      owner: r.owner,
      transfer: TransferSchema.parse(JSON.parse(r.record))
    };
  }

  /** Forgets the transfers that finished before `before`. */
  dropFinishedBefore(before: string): void {
    this.store
      .statement(
        'DELETE FROM storage_transfers WHERE finished_at IS NOT NULL AND finished_at < ?'
      )
      .run(before);
  }
}
