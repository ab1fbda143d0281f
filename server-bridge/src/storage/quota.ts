/**
 * Usage per scope (a user's root or a group's), measured by walking the scope. Writes
 * through the bridge adjust the figure at once when they finish; writes in flight are
 * counted by their reservations (reservations.ts), not here. A figure older than the TTL is still answered (stale by at most one walk)
 * while a new walk runs in the background, so no request waits for a walk of a big tree
 * except the very first one of a scope.
 */
import { DomainError } from '../domain-error';

export interface IUsage {
  bytes: number;
  measuredAt: Date;
}

export type Clock = () => number;

export class UsageCache {
  private readonly entries = new Map<
    string,
    { bytes: number; measuredAt: number }
  >();
  private readonly pending = new Map<string, Promise<IUsage>>();

  constructor(
    private readonly ttlMs = 30_000,
    private readonly now: Clock = Date.now
  ) {}

  /**
   * The known usage (starting a new walk when it is older than the TTL), or, the first
   * time, the walk's result. One walk at a time per key.
   */
  async get(key: string, measure: () => Promise<number>): Promise<IUsage> {
    const hit = this.entries.get(key);
    if (hit === undefined) {
      return this.measure(key, measure);
    }
    if (this.now() - hit.measuredAt >= this.ttlMs) {
      // A failed background walk keeps the old figure; the next get tries again.
      this.measure(key, measure).catch(() => undefined);
    }
    return { bytes: hit.bytes, measuredAt: new Date(hit.measuredAt) };
  }

  private measure(key: string, walk: () => Promise<number>): Promise<IUsage> {
    const running = this.pending.get(key);
    if (running !== undefined) {
      return running;
    }
    const started = this.now();
    const p = walk()
      .then(bytes => {
        if (this.pending.get(key) === p) {
          this.entries.set(key, { bytes, measuredAt: started });
        }
        return { bytes, measuredAt: new Date(started) };
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
    const hit = this.entries.get(key);
    return hit === undefined
      ? undefined
      : { bytes: hit.bytes, measuredAt: new Date(hit.measuredAt) };
  }

  /** Adds `delta` bytes (negative for deletions) to a cached figure, if any. */
  add(key: string, delta: number): void {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      hit.bytes = Math.max(0, hit.bytes + delta);
    }
  }

  /**
   * Adds `delta` to a cached figure and drops a walk in progress, which may have listed
   * the scope before the change.
   */
  settle(key: string, delta: number): void {
    this.add(key, delta);
    this.pending.delete(key);
  }

  /** Forgets a figure (after a change whose size is unknown, e.g. a folder delete). */
  invalidate(key: string): void {
    this.entries.delete(key);
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
