/**
 * Releases what dead replicas held: run by the leader at its election and every
 * heartbeat interval, and by each replica at start for what its previous life (the same
 * id) left. A replica counts as dead once its heartbeat is older than DEAD_AFTER
 * intervals, or when it has none (rows written before migration 23 name none).
 */
import type { Logger } from 'pino';
import type { Liveness } from './liveness';
import type { ISingleton } from './singletons';

export interface IReplicaHolds {
  name: string;
  /**
   * Releases what replicas not seen since `aliveSince` (epoch ms) or without a heartbeat
   * hold, in statements that read the heartbeats themselves (a live replica's rows are
   * never touched); returns how many rows were released.
   */
  releaseDead: (aliveSince: number) => number;
  /** Releases what `replica` holds; returns how many rows. */
  releaseOf: (replica: string) => number;
}

/** At start, before this replica holds anything: what the same id left is gone. */
export function releasePreviousLife(
  replica: string,
  holds: readonly IReplicaHolds[],
  log: Logger
): void {
  for (const h of holds) {
    try {
      const n = h.releaseOf(replica);
      if (n > 0) {
        log.info(
          { holds: h.name, rows: n },
          'released what this replica held before its restart'
        );
      }
    } catch (e) {
      log.warn(
        { err: e, holds: h.name },
        'holds of the previous run not released'
      );
    }
  }
}

/** One round: releases every dead replica's holds; returns the rows released. */
export function releaseDead(
  liveness: Liveness,
  holds: readonly IReplicaHolds[],
  log: Logger
): number {
  const aliveSince = liveness.aliveSince();
  let total = 0;
  for (const h of holds) {
    try {
      const n = h.releaseDead(aliveSince);
      if (n > 0) {
        log.info(
          { holds: h.name, rows: n },
          'released what dead replicas held'
        );
      }
      total += n;
    } catch (e) {
      log.warn(
        { err: e, holds: h.name },
        'holds of dead replicas not released'
      );
    }
  }
  try {
    liveness.forgetDead();
  } catch (e) {
    log.warn({ err: e }, 'dead replicas not forgotten');
  }
  return total;
}

export function deadHoldsReaper(
  liveness: Liveness,
  holds: readonly IReplicaHolds[],
  intervalMs: number,
  log: Logger
): ISingleton {
  let timer: NodeJS.Timeout | undefined;
  const round = (): void => {
    releaseDead(liveness, holds, log);
  };
  return {
    name: 'dead replica holds',
    start: () => {
      round();
      timer = setInterval(round, intervalMs);
      timer.unref();
    },
    stop: () => clearInterval(timer)
  };
}
