/**
 * Leader election through the database: the replica that holds a named lease leads. It
 * renews the lease well before it expires; a replica that finds the lease expired takes
 * it. A leader that cannot renew in time (its database stalls, another replica took the
 * lease) is demoted at once, so two leaders overlap for no longer than a renewal.
 */
import type { Store } from '../store';
import { LeaseTable, type ILeaseRecord } from './repository/leases';

export type { ILeaseRecord };

export interface ILeaderLeaseOptions {
  store: Store;
  /** One leader per name. */
  name: string;
  /** This replica (`host:pid` by default in the bridge). */
  holder: string;
  leaseMs: number;
  /** Between two tries to take or renew the lease; default a third of the lease. */
  renewMs?: number;
  onElected: () => void;
  onDemoted: () => void;
  /** The table could not be read or written (the lease is tried again). */
  onError?: (error: unknown) => void;
  now?: () => number;
}

export class LeaderLease {
  private readonly table: LeaseTable;
  private leading = false;
  /** Until when this replica's last renewal holds (epoch ms). */
  private heldUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private expiry: NodeJS.Timeout | undefined;

  constructor(private readonly options: ILeaderLeaseOptions) {
    this.table = new LeaseTable(options.store);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get holder(): string {
    return this.options.holder;
  }

  /** Tries now, then every `renewMs`. */
  start(): void {
    if (this.timer !== undefined) {
      return;
    }
    this.tick();
    this.timer = setInterval(
      () => this.tick(),
      this.options.renewMs ?? Math.max(1, Math.floor(this.options.leaseMs / 3))
    );
    this.timer.unref();
  }

  /** Stops trying; a leader steps down and gives the lease up for another replica. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.leading) {
      try {
        this.table.release(this.options.name, this.options.holder);
      } catch (e) {
        this.options.onError?.(e);
      }
      this.demote();
    }
  }

  /** One try to take or renew the lease (the timer's; tests call it). */
  tick(): void {
    const now = this.now();
    const until = now + this.options.leaseMs;
    let held: boolean;
    try {
      held = this.table.take(
        this.options.name,
        this.options.holder,
        new Date(now),
        until
      );
    } catch (e) {
      this.options.onError?.(e);
      // Not renewed: a leader keeps leading until its last renewal runs out.
      if (this.leading && now >= this.heldUntil) {
        this.demote();
      }
      return;
    }
    if (!held) {
      if (this.leading) {
        this.demote();
      }
      return;
    }
    this.heldUntil = until;
    this.watchExpiry();
    if (!this.leading) {
      this.leading = true;
      this.options.onElected();
    }
  }

  /** Who holds the lease (possibly expired), as the table says. */
  current(): ILeaseRecord | undefined {
    return this.table.get(this.options.name);
  }

  /** Demotes when the lease runs out before the next renewal (e.g. the loop stalled). */
  private watchExpiry(): void {
    clearTimeout(this.expiry);
    if (this.timer === undefined) {
      return;
    }
    this.expiry = setTimeout(() => {
      if (this.leading && this.now() >= this.heldUntil) {
        this.demote();
      }
    }, this.heldUntil - this.now());
    this.expiry.unref();
  }

  private demote(): void {
    clearTimeout(this.expiry);
    this.leading = false;
    this.heldUntil = 0;
    this.options.onDemoted();
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }
}
