/**
 * Gateway tokens held by requests in flight. A key's `tokens_reserved` (migration 9) is
 * what the budget check reads; `gateway_holds` (migration 23) splits it by the replica
 * whose requests hold it, so that what a dead replica held, and only that, is charged to
 * its keys (a request cut off may have cost it all).
 */
import type { IReplicaHolds } from '../../replicas/reaper';
import { LOCAL_REPLICA } from '../../replicas/liveness';
import { LIVE_REPLICAS } from '../../replicas/repository/heartbeats';
import type { Store } from '../../store';

export class TokenHolds {
  constructor(
    private readonly store: Store,
    private readonly replica: string = LOCAL_REPLICA
  ) {}

  /**
   * Reserves `amount` tokens of the key unless used + reserved + amount would pass its
   * budget; true when reserved.
   */
  reserve(keyId: string, amount: number): boolean {
    return this.store.exclusive(() => {
      const reserved =
        this.store
          .statement(
            `UPDATE endpoint_keys SET tokens_reserved = tokens_reserved + @amount
             WHERE id = @id
               AND (token_budget IS NULL OR tokens_used + tokens_reserved + @amount <= token_budget)`
          )
          .run({ amount, id: keyId }).changes === 1;
      if (reserved && amount > 0) {
        this.store
          .statement(
            `INSERT INTO gateway_holds (key_id, replica, tokens) VALUES (?, ?, ?)
             ON CONFLICT (key_id, replica) DO UPDATE SET tokens = gateway_holds.tokens + excluded.tokens`
          )
          .run(keyId, this.replica, amount);
      }
      return reserved;
    });
  }

  /**
   * Charges `used` tokens and releases a reservation of `released`, of no more than this
   * replica still holds of the key (what it held may have been charged meanwhile, when
   * it was taken for dead).
   */
  settle(keyId: string, used: number, released: number): void {
    this.store.exclusive(() => {
      const held = this.heldOf(keyId, this.replica);
      const freed = Math.min(released, held);
      this.setHeld(keyId, this.replica, held - freed);
      this.charge(keyId, used, freed);
    });
  }

  /** Charges what replicas not seen since `aliveSince` (or none) held; returns the rows. */
  chargeOfDead(aliveSince: number): number {
    return this.chargeWhere(`replica NOT IN (${LIVE_REPLICAS})`, aliveSince);
  }

  /** Charges what `replica` held (at its start: requests its previous run cut off). */
  chargeOf(replica: string): number {
    return this.chargeWhere('replica = ?', replica);
  }

  private chargeWhere(holder: string, param: string | number): number {
    return this.store.exclusive(() => {
      const rows = this.store
        .statement(
          `SELECT key_id, replica, tokens FROM gateway_holds WHERE ${holder}`
        )
        .all(param) as { key_id: string; replica: string; tokens: number }[];
      for (const r of rows) {
        this.charge(r.key_id, r.tokens, r.tokens);
        this.setHeld(r.key_id, r.replica, 0);
      }
      return rows.length;
    });
  }

  private heldOf(keyId: string, replica: string): number {
    const row = this.store
      .statement(
        'SELECT tokens FROM gateway_holds WHERE key_id = ? AND replica = ?'
      )
      .get(keyId, replica) as { tokens: number } | undefined;
    return row?.tokens ?? 0;
  }

  private setHeld(keyId: string, replica: string, tokens: number): void {
    if (tokens > 0) {
      this.store
        .statement(
          'UPDATE gateway_holds SET tokens = ? WHERE key_id = ? AND replica = ?'
        )
        .run(tokens, keyId, replica);
    } else {
      this.store
        .statement('DELETE FROM gateway_holds WHERE key_id = ? AND replica = ?')
        .run(keyId, replica);
    }
  }

  private charge(keyId: string, used: number, released: number): void {
    this.store
      .statement(
        `UPDATE endpoint_keys SET tokens_used = tokens_used + @used,
           tokens_reserved = CASE WHEN tokens_reserved < @released THEN 0
                                  ELSE tokens_reserved - @released END
         WHERE id = @keyId`
      )
      .run({ used, released, keyId });
  }
}

/** Tokens held by gateway requests, for the replicas' clean-ups. */
export function tokenHolds(store: Store): IReplicaHolds {
  const holds = new TokenHolds(store);
  return {
    name: 'gateway token reservations',
    releaseDead: aliveSince => holds.chargeOfDead(aliveSince),
    releaseOf: replica => holds.chargeOf(replica)
  };
}
