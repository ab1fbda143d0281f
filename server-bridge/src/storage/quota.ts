/**
 * Usage per scope (a user's root or a group's), measured by walking the scope and cached
 * for a short while; writes adjust the cached figure so that a burst of uploads cannot
 * slip past the quota between two measurements.
 */
import { HttpError } from '../errors';

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

  /** The cached usage, or a fresh measurement (one at a time per key). */
  async get(key: string, measure: () => Promise<number>): Promise<IUsage> {
    const hit = this.entries.get(key);
    if (hit !== undefined && this.now() - hit.measuredAt < this.ttlMs) {
      return { bytes: hit.bytes, measuredAt: new Date(hit.measuredAt) };
    }
    const running = this.pending.get(key);
    if (running !== undefined) {
      return running;
    }
    const started = this.now();
    const p = measure()
      .then(bytes => {
        this.entries.set(key, { bytes, measuredAt: started });
        return { bytes, measuredAt: new Date(started) };
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, p);
    return p;
  }

  /** Adds `delta` bytes (negative for deletions) to a cached figure, if any. */
  add(key: string, delta: number): void {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      hit.bytes = Math.max(0, hit.bytes + delta);
    }
  }

  /** Forgets a figure (after a change whose size is unknown, e.g. a folder delete). */
  invalidate(key: string): void {
    this.entries.delete(key);
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
    throw new HttpError(
      'quota_exceeded',
      `Writing ${formatBytes(size)} would exceed the ${formatBytes(quota)} quota of ${where}: ${formatBytes(used)} used, ${formatBytes(left)} left. Nothing was written.`,
      { quotaBytes: quota, usedBytes: used, requestedBytes: size }
    );
  }
}
