/**
 * Which replicas are alive: each one writes a heartbeat (its id, when it started, when
 * it was last seen) every `intervalMs`; a replica not seen for DEAD_AFTER intervals is
 * dead, and what it held (reservations, claims, gateway tokens, kernel activity) may be
 * released by the leader. A replica that stops deletes its row: it is dead at once.
 */
import type { Store } from '../store';
import { HeartbeatTable, type IHeartbeat } from './repository/heartbeats';

export type { IHeartbeat };

/** Heartbeats missed before a replica counts as dead. */
export const DEAD_AFTER = 3;

/** The replica id of a bridge built without one (a single process, tests). */
export const LOCAL_REPLICA = 'local';

export interface ILivenessOptions {
  store: Store;
  replica: string;
  intervalMs: number;
  /** A beat could not be written (it is tried again at the next one). */
  onError?: (error: unknown) => void;
  now?: () => number;
}

export class Liveness {
  readonly replica: string;
  private readonly table: HeartbeatTable;
  private readonly startedAt: string;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ILivenessOptions) {
    this.replica = options.replica;
    this.table = new HeartbeatTable(options.store);
    this.startedAt = new Date(this.now()).toISOString();
  }

  /** Beats now (before this replica holds anything), then every interval. */
  start(): void {
    if (this.timer !== undefined) {
      return;
    }
    this.beat();
    this.timer = setInterval(() => this.beat(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops beating and deletes this replica's row: it is dead for the others now. */
  stop(): void {
    if (this.timer === undefined) {
      return;
    }
    clearInterval(this.timer);
    this.timer = undefined;
    try {
      this.table.remove(this.replica);
    } catch (e) {
      this.options.onError?.(e);
    }
  }

  /** One heartbeat (the timer's; tests call it). */
  beat(): void {
    try {
      this.table.beat(this.replica, this.startedAt, this.now());
    } catch (e) {
      this.options.onError?.(e);
    }
  }

  /** Replicas seen since this time (epoch ms) are alive. */
  aliveSince(): number {
    return this.now() - DEAD_AFTER * this.options.intervalMs;
  }

  /** The live replicas, longest running first. */
  live(): IHeartbeat[] {
    return this.table.seenSince(this.aliveSince());
  }

  /** Forgets replicas dead for as long again (their holds were released meanwhile). */
  forgetDead(): number {
    return this.table.deleteBefore(
      this.aliveSince() - DEAD_AFTER * this.options.intervalMs
    );
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }
}
