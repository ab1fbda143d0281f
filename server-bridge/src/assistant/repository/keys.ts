/** The `assistant_keys` table (migration 19): the key the bridge keeps per user and endpoint. */
import { z } from 'zod';
import type { Store } from '../../store';

const RowSchema = z.object({ key_id: z.string() });

export class AssistantKeyTable {
  constructor(private readonly store: Store) {}

  /** The id of the user's assistant key of an endpoint; undefined when none was made. */
  get(owner: string, endpointId: string): string | undefined {
    const row = this.store
      .statement(
        'SELECT key_id FROM assistant_keys WHERE owner = ? AND endpoint_id = ?'
      )
      .get(owner, endpointId);
    return row === undefined ? undefined : RowSchema.parse(row).key_id;
  }

  put(owner: string, endpointId: string, keyId: string, at: string): void {
    this.store
      .statement(
        `INSERT INTO assistant_keys (owner, endpoint_id, key_id, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (owner, endpoint_id) DO UPDATE SET key_id = excluded.key_id,
           created_at = excluded.created_at`
      )
      .run(owner, endpointId, keyId, at);
  }
}
