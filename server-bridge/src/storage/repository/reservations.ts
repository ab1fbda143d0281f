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
 */
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
  /** Bytes of live reservations in the scope. */
  reserved: number;
  /** Whether another live reservation writes the same target. */
  targetBusy: boolean;
}

export class ReservationTable {
  constructor(private readonly store: Store) {}

  /**
   * Runs `check` with what the scope holds at `now` and inserts the reservation unless
   * it throws; both in one immediate transaction.
   */
  reserve(
    request: IReservationRequest,
    now: string,
    check: (held: IHeld) => void
  ): void {
    const db = this.store.db;
    const run = db.transaction(() => {
      const row = db
        .prepare(
          'SELECT COALESCE(SUM(bytes), 0) AS n, COALESCE(SUM(CASE WHEN target = ? THEN 1 ELSE 0 END), 0) AS same FROM storage_reservations WHERE scope = ? AND expires_at > ?'
        )
        .get(request.target, request.scope, now) as { n: number; same: number };
      check({ reserved: row.n, targetBusy: row.same > 0 });
      db.prepare(
        'INSERT INTO storage_reservations (id, scope, target, bytes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)'
      ).run(
        request.id,
        request.scope,
        request.target,
        request.bytes,
        request.createdAt,
        request.expiresAt
      );
    });
    run.immediate();
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
   * At start, before the bridge listens: claims and the reservations of streamed writes
   * and copies belonged to a process that is gone (upload sessions keep theirs).
   */
  dropUnowned(): void {
    const db = this.store.db;
    db.prepare(
      'DELETE FROM storage_reservations WHERE id NOT IN (SELECT id FROM upload_sessions)'
    ).run();
    db.prepare('DELETE FROM storage_claims').run();
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
            'INSERT INTO storage_claims (target, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (target) DO NOTHING'
          )
          .run(target, holder, expiresAt).changes === 1
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
