/**
 * Quota reservations and write claims in the store (tables of migration 10).
 *
 * A reservation holds bytes that a write in flight will add to a scope (a streamed PUT,
 * a copy, an upload session whose parts S3 holds out of sight of listings). Checking
 * the quota and inserting the reservation happen in one transaction, so parallel writes
 * cannot each see the same free space; the rows outlive a usage refresh and a restart.
 *
 * A claim makes one writer the only one of a file for as long as its write runs, so
 * that "create if absent" is atomic on backends without conditional writes (Swift's
 * s3api ignores `If-None-Match`).
 *
 * Both carry the replica that made them (migration 23): what a dead replica held is
 * released by the leader, what this replica held before a restart by itself at start.
 * Upload sessions' reservations outlive their replica (any replica may finish the
 * session; the upload sweep releases them when the session expires).
 */
import { LOCAL_REPLICA } from '../../replicas/liveness';
import { LIVE_REPLICAS } from '../../replicas/repository/heartbeats';
import type { IReplicaHolds } from '../../replicas/reaper';
import type { Store } from '../../store';

export interface IReservationRequest {
  id: string;
  scope: string;
  target: string;
  bytes: number;
  createdAt: string;
  expiresAt: string;
}

export interface IHeld {
  /** The scope's usage figure now (`storage_usage`); null when it is unknown. */
  measured: number | null;
  /** Bytes of live reservations in the scope. */
  reserved: number;
  /** Whether another live reservation writes the same target. */
  targetBusy: boolean;
}

export class ReservationTable {
  constructor(
    private readonly store: Store,
    private readonly replica: string = LOCAL_REPLICA
  ) {}

  /**
   * Runs `check` with what the scope holds at `now` and inserts the reservation when it
   * answers true (it throws to refuse, false to try again later); both in one immediate
   * transaction. True when inserted.
   */
  reserve(
    request: IReservationRequest,
    now: string,
    check: (held: IHeld) => boolean
  ): boolean {
    const db = this.store.db;
    const run = db.transaction(() => {
      const row = db
        .prepare(
          'SELECT COALESCE(SUM(bytes), 0) AS n, COALESCE(SUM(CASE WHEN target = ? THEN 1 ELSE 0 END), 0) AS same FROM storage_reservations WHERE scope = ? AND expires_at > ?'
        )
        .get(request.target, request.scope, now) as { n: number; same: number };
      const figure = db
        .prepare('SELECT bytes FROM storage_usage WHERE scope = ?')
        .get(request.scope) as { bytes: number | null } | undefined;
      if (
        !check({
          measured: figure?.bytes ?? null,
          reserved: row.n,
          targetBusy: row.same > 0
        })
      ) {
        return false;
      }
      db.prepare(
        'INSERT INTO storage_reservations (id, scope, target, bytes, created_at, expires_at, replica) VALUES (?, ?, ?, ?, ?, ?, ?)'
      ).run(
        request.id,
        request.scope,
        request.target,
        request.bytes,
        request.createdAt,
        request.expiresAt,
        this.replica
      );
      return true;
    });
    return run.immediate();
  }

  /** Bytes of live reservations in the scope. */
  reserved(scope: string, now: string): number {
    const row = this.store.db
      .prepare(
        'SELECT COALESCE(SUM(bytes), 0) AS n FROM storage_reservations WHERE scope = ? AND expires_at > ?'
      )
      .get(scope, now) as { n: number };
    return row.n;
  }

  bytesOf(id: string): number | undefined {
    const row = this.store.db
      .prepare('SELECT bytes FROM storage_reservations WHERE id = ?')
      .get(id) as { bytes: number } | undefined;
    return row?.bytes;
  }

  release(id: string): void {
    this.store.db
      .prepare('DELETE FROM storage_reservations WHERE id = ?')
      .run(id);
  }

  /** Releases every reservation whose id starts with `prefix`. */
  releaseAll(prefix: string): void {
    this.store.db
      .prepare(
        'DELETE FROM storage_reservations WHERE substr(id, 1, length(CAST(? AS TEXT))) = ?'
      )
      .run(prefix, prefix);
  }

  /**
   * Whether a reservation of the scope lapsed (expired unreleased) after `since`: the
   * bytes its URL or session may have written are then missing from a figure measured
   * before.
   */
  lapsedSince(scope: string, since: string, now: string): boolean {
    return (
      this.store.db
        .prepare(
          'SELECT 1 FROM storage_reservations WHERE scope = ? AND expires_at > ? AND expires_at <= ?'
        )
        .get(scope, since, now) !== undefined
    );
  }

  /** Deletes reservations and claims expired at `now`; returns the scopes touched. */
  dropExpired(now: string): string[] {
    const db = this.store.db;
    const scopes = (
      db
        .prepare(
          'SELECT DISTINCT scope FROM storage_reservations WHERE expires_at <= ?'
        )
        .all(now) as { scope: string }[]
    ).map(r => r.scope);
    db.prepare('DELETE FROM storage_reservations WHERE expires_at <= ?').run(
      now
    );
    db.prepare('DELETE FROM storage_claims WHERE expires_at <= ?').run(now);
    return scopes;
  }

  /**
   * Releases the claims and the reservations of streamed writes and copies (not upload
   * sessions') of replicas not seen since `aliveSince` or without a heartbeat; returns
   * how many rows.
   */
  dropOfDead(aliveSince: number): number {
    return this.dropWhere(
      `(replica IS NULL OR replica NOT IN (${LIVE_REPLICAS}))`,
      aliveSince
    );
  }

  /** The same for one replica's (at its start: what its previous run left). */
  dropOf(replica: string): number {
    return this.dropWhere('replica = ?', replica);
  }

  private dropWhere(holder: string, param: string | number): number {
    return this.store.exclusive(() => {
      const db = this.store.db;
      const reservations = db
        .prepare(
          `DELETE FROM storage_reservations WHERE ${holder}
             AND id NOT IN (SELECT id FROM upload_sessions)`
        )
        .run(param).changes;
      const claims = db
        .prepare(`DELETE FROM storage_claims WHERE ${holder}`)
        .run(param).changes;
      return reservations + claims;
    });
  }

  /** Takes the claim on `target` unless a live one is held; true when taken. */
  claim(
    target: string,
    holder: string,
    expiresAt: string,
    now: string
  ): boolean {
    const db = this.store.db;
    const run = db.transaction(() => {
      db.prepare(
        'DELETE FROM storage_claims WHERE target = ? AND expires_at <= ?'
      ).run(target, now);
      return (
        db
          .prepare(
            'INSERT INTO storage_claims (target, holder, expires_at, replica) VALUES (?, ?, ?, ?) ON CONFLICT (target) DO NOTHING'
          )
          .run(target, holder, expiresAt, this.replica).changes === 1
      );
    });
    return run.immediate();
  }

  unclaim(target: string, holder: string): void {
    this.store.db
      .prepare('DELETE FROM storage_claims WHERE target = ? AND holder = ?')
      .run(target, holder);
  }
}

/** Streamed writes' reservations and write claims, for the replicas' clean-ups. */
export function storageHolds(store: Store): IReplicaHolds {
  const table = new ReservationTable(store);
  return {
    name: 'storage reservations and claims',
    releaseDead: aliveSince => table.dropOfDead(aliveSince),
    releaseOf: replica => table.dropOf(replica)
  };
}
