/**
 * Relayed kernel traffic, shared by the replicas. The replica that relays a kernel's
 * channels writes its activity to `kernel_activity`, at most once a second per kernel,
 * except that a cell that starts (a shell request while the row says no cell runs) is
 * written at once: the leader's idle sweep reads the rows of every replica, so it never
 * takes a kernel for idle while a cell runs or traffic is newer than a second on
 * another replica. A cell counts only while its replica is alive (its connection died
 * with it).
 */
import type { Store } from '../store';
import { KernelActivityTable, type ISeenActivity } from './repository/activity';
import {
  isKernelTerminal,
  type IKernelRecord,
  type KernelTable
} from './repository/kernels';

export type { ISeenActivity };

/** At most one write per kernel this often (a cell's start excepted). */
const WRITE_EVERY_MS = 1000;
/** How often activity is copied into a kernel's record (its API's `lastActivity`) at most. */
const RECORD_EVERY_MS = 30_000;

interface IState {
  at: number;
  busy: boolean;
}

export interface IKernelActivityOptions {
  store: Store;
  replica: string;
  /** Replicas seen since then (epoch ms) are alive (default: only this one). */
  aliveSince?: () => number;
  now: () => number;
  onError?: (error: unknown) => void;
}

export class KernelActivity {
  private readonly table: KernelActivityTable;
  /** What this replica relayed last, per kernel. */
  private readonly relayed = new Map<string, IState>();
  /** What it wrote last, and when. */
  private readonly written = new Map<string, IState & { writtenAt: number }>();
  private readonly pending = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: IKernelActivityOptions) {
    this.table = new KernelActivityTable(options.store);
  }

  /**
   * Shell or stdin traffic relayed here: a shell `request` (to the kernel) makes a cell
   * run until a shell `reply` (from it) comes back.
   */
  touch(id: string, shell?: 'request' | 'reply'): void {
    const now = this.options.now();
    const busy =
      shell === 'request'
        ? true
        : shell === 'reply'
          ? false
          : (this.relayed.get(id)?.busy ?? false);
    this.relayed.set(id, { at: now, busy });
    const last = this.written.get(id);
    if (
      last === undefined ||
      (busy && !last.busy) ||
      now - last.writtenAt >= WRITE_EVERY_MS
    ) {
      this.write(id);
    } else if (!this.pending.has(id)) {
      const timer = setTimeout(
        () => this.write(id),
        WRITE_EVERY_MS - (now - last.writtenAt)
      );
      timer.unref();
      this.pending.set(id, timer);
    }
  }

  /** The last traffic this replica relayed (epoch ms). */
  lastRelayed(id: string): number | undefined {
    return this.relayed.get(id)?.at;
  }

  /** Every replica's activity per kernel, this replica's latest (in memory) included. */
  seen(): Map<string, ISeenActivity> {
    const aliveSince = this.options.aliveSince?.() ?? Number.POSITIVE_INFINITY;
    const seen = this.table.seenByOthers(this.options.replica, aliveSince);
    for (const [id, mine] of this.relayed) {
      const others = seen.get(id);
      seen.set(id, {
        lastAt: Math.max(mine.at, others?.lastAt ?? 0),
        busy: mine.busy || others?.busy === true
      });
    }
    return seen;
  }

  /** Copies activity into the records last written RECORD_EVERY_MS ago or more. */
  record(
    table: KernelTable,
    seen: Map<string, ISeenActivity>,
    now: number
  ): void {
    const due: IKernelRecord[] = [];
    for (const [id, { lastAt }] of seen) {
      const rec = table.get(id);
      if (rec === undefined || isKernelTerminal(rec.kernel.state)) {
        continue;
      }
      const recorded = Date.parse(rec.kernel.lastActivity);
      if (lastAt > recorded && now - recorded >= RECORD_EVERY_MS) {
        due.push({
          ...rec,
          kernel: {
            ...rec.kernel,
            lastActivity: new Date(lastAt).toISOString()
          }
        });
      }
    }
    table.updateMany(due);
    this.dropEnded();
  }

  /** The kernel ended: this replica forgets it; rows of ended kernels are deleted. */
  forget(id: string): void {
    clearTimeout(this.pending.get(id));
    this.pending.delete(id);
    this.relayed.delete(id);
    this.written.delete(id);
    this.dropEnded();
  }

  dropEnded(): void {
    try {
      this.table.dropEnded();
    } catch (e) {
      this.options.onError?.(e);
    }
  }

  private write(id: string): void {
    clearTimeout(this.pending.get(id));
    this.pending.delete(id);
    const state = this.relayed.get(id);
    if (state === undefined) {
      return;
    }
    try {
      this.table.write(id, this.options.replica, state.at, state.busy);
      this.written.set(id, { ...state, writtenAt: this.options.now() });
    } catch (e) {
      this.options.onError?.(e);
    }
  }
}
