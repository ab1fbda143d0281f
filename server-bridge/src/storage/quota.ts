/**
 * Usage per scope (a user's root or a group's), measured by walking the scope. The
 * figure lives in the store (`storage_usage`), shared by every bridge replica: writes
 * through any replica adjust it when they finish; writes in flight are counted by their
 * reservations (reservations.ts), not here. A figure older than the TTL is still
 * answered (stale by at most one walk) while a new walk runs in the background, so no
 * request waits for a walk of a big tree except the very first one of a scope. A walk
 * writes its figure only if the scope did not change while it ran.
 */
import { DomainError } from '../domain-error';
import type { Store } from '../store';
import { UsageFigureTable } from './repository/usage-figures';

export interface IUsage {
  bytes: number;
  measuredAt: Date;
}

export type Clock = () => number;

export class UsageCache {
  private readonly figures: UsageFigureTable;
  /** This replica's walks in progress, one per key. */
  private readonly pending = new Map<string, Promise<IUsage>>();

  constructor(
    store: Store,
    private readonly ttlMs = 30_000,
    private readonly now: Clock = Date.now
  ) {
    this.figures = new UsageFigureTable(store);
  }

  /**
   * The known usage (starting a new walk when it is older than the TTL), or, when it is
   * unknown, the walk's result. One walk at a time per key.
   */
  async get(key: string, measure: () => Promise<number>): Promise<IUsage> {
    const hit = this.peek(key);
    if (hit === undefined) {
      return this.measure(key, measure);
    }
    if (this.now() - hit.measuredAt.getTime() >= this.ttlMs) {
      // A failed background walk keeps the old figure; the next get tries again.
      this.measure(key, measure).catch(() => undefined);
    }
    return hit;
  }

  private measure(key: string, walk: () => Promise<number>): Promise<IUsage> {
    const running = this.pending.get(key);
    if (running !== undefined) {
      return running;
    }
    const started = this.now();
    const version = this.figures.get(key)?.version ?? 0;
    const p = walk()
      .then(bytes => {
        const measuredAt = new Date(started);
        this.figures.record(key, bytes, measuredAt.toISOString(), version);
        return { bytes, measuredAt };
      })
      .finally(() => {
        if (this.pending.get(key) === p) {
          this.pending.delete(key);
        }
      });
    this.pending.set(key, p);
    return p;
  }

  /** The known figure without measuring (the admin overview never starts a walk). */
  peek(key: string): IUsage | undefined {
    const figure = this.figures.get(key);
    return figure === undefined || figure.bytes === null
      ? undefined
      : { bytes: figure.bytes, measuredAt: new Date(figure.measuredAt) };
  }

  /**
   * Adds `delta` bytes (negative for deletions) to the figure; a walk in progress, which
   * may have listed the scope before the change, will not write its figure.
   */
  add(key: string, delta: number): void {
    this.figures.add(key, delta, new Date(this.now()).toISOString());
    this.pending.delete(key);
  }

  /** A write of `delta` bytes has become visible (see `add`). */
  settle(key: string, delta: number): void {
    this.add(key, delta);
  }

  /** Forgets a figure (after a change whose size is unknown, e.g. a folder delete). */
  invalidate(key: string): void {
    this.figures.invalidate(key, new Date(this.now()).toISOString());
    // A walk that started before the change may have missed it.
    this.pending.delete(key);
  }
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `1.5 GiB`, `512 B`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/**
 * Throws 413 quota_exceeded unless `used - replaced + size` fits in `quota`.
 * `where` names the scope in the message (`project/ml101`).
 */
export function checkQuota(options: {
  where: string;
  quota: number | undefined;
  used: number;
  size: number;
  /** Bytes of the file the write replaces. */
  replaced?: number;
}): void {
  const { where, quota, used, size } = options;
  if (quota === undefined) {
    return;
  }
  const after = used - (options.replaced ?? 0) + size;
  if (after > quota) {
    const left = Math.max(0, quota - used + (options.replaced ?? 0));
    throw new DomainError(
      'quota_exceeded',
      `Writing ${formatBytes(size)} would exceed the ${formatBytes(quota)} quota of ${where}: ${formatBytes(used)} used, ${formatBytes(left)} left. Nothing was written.`,
      { quotaBytes: quota, usedBytes: used, requestedBytes: size }
    );
  }
}
