/**
 * The `gateway_rate_windows` table (migration 21): requests admitted per API key and
 * calendar minute, counted in the store so that a key's rate holds across replicas.
 */
import type { Store } from '../../store';

export class RateWindowTable {
  constructor(private readonly store: Store) {}

  /** Counts one request in the key's minute unless `limit` are counted; true when counted. */
  take(keyId: string, minute: number, limit: number): boolean {
    if (limit <= 0) {
      return false;
    }
    return (
      this.store
        .statement(
          `INSERT INTO gateway_rate_windows (key_id, minute, requests) VALUES (@keyId, @minute, 1)
           ON CONFLICT (key_id, minute) DO UPDATE SET requests = gateway_rate_windows.requests + 1
           WHERE gateway_rate_windows.requests < @limit`
        )
        .run({ keyId, minute, limit }).changes === 1
    );
  }

  /** Uncounts a request `take` counted (its admission failed after all). */
  giveBack(keyId: string, minute: number): void {
    this.store
      .statement(
        'UPDATE gateway_rate_windows SET requests = requests - 1 WHERE key_id = ? AND minute = ? AND requests > 0'
      )
      .run(keyId, minute);
  }

  /** Forgets the minutes before `minute`. */
  dropBefore(minute: number): void {
    this.store
      .statement('DELETE FROM gateway_rate_windows WHERE minute < ?')
      .run(minute);
  }
}
