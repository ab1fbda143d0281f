/**
 * Backend health over time (table `health_samples`, migration 6): the bridge checks its
 * backends once a minute (the same checks as `GET /health`), keeps each result for 7
 * days, and answers the series per backend.
 */
import type {
  AdminHealth,
  BackendHistory,
  ComponentHealth,
  HealthSample
} from '../contract';
import type { Store } from '../store';
import { HealthSampleTable } from './repository/health-samples';

export const SAMPLE_INTERVAL_MS = 60_000;
export const RETENTION_MS = 7 * 24 * 3600 * 1000;

export class HealthHistory {
  private readonly samples: HealthSampleTable;

  constructor(
    store: Store,
    private readonly now: () => number = Date.now
  ) {
    this.samples = new HealthSampleTable(store);
  }

  /** Records one check of every backend and drops samples older than the retention. */
  record(components: readonly ComponentHealth[]): void {
    const at = this.now();
    this.samples.record(
      new Date(at).toISOString(),
      components,
      new Date(at - RETENTION_MS).toISOString()
    );
  }

  /** The samples of the last `hours`, per backend (sorted by name), oldest first. */
  series(hours: number): AdminHealth {
    const to = this.now();
    const from = to - hours * 3600 * 1000;
    const rows = this.samples.since(new Date(from).toISOString());
    const byBackend = new Map<string, HealthSample[]>();
    for (const r of rows) {
      const list = byBackend.get(r.backend) ?? [];
      list.push({
        ts: r.ts,
        status: r.status,
        latencyMs: r.latency_ms,
        detail: r.detail
      });
      byBackend.set(r.backend, list);
    }
    const backends: BackendHistory[] = [...byBackend.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, samples]) => ({
        name,
        samples,
        okRatio:
          samples.length === 0
            ? null
            : samples.filter(s => s.status === 'ok').length / samples.length
      }));
    return {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      intervalSeconds: SAMPLE_INTERVAL_MS / 1000,
      backends
    };
  }
}

/** Checks the backends every minute and records the result; the first check at start. */
export class HealthSampler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      history: HealthHistory;
      check: () => Promise<ComponentHealth[]>;
      onError?: (error: unknown) => void;
      intervalMs?: number;
    }
  ) {}

  start(): void {
    if (this.timer !== undefined) {
      return;
    }
    this.sampleNow();
    this.timer = setInterval(
      () => this.sampleNow(),
      this.deps.intervalMs ?? SAMPLE_INTERVAL_MS
    );
    this.timer.unref();
  }

  /** One round of checks (skipped while the previous one still runs). */
  sampleNow(): Promise<void> {
    if (this.running !== undefined) {
      return this.running;
    }
    this.running = this.deps
      .check()
      .then(components => this.deps.history.record(components))
      .catch((e: unknown) => this.deps.onError?.(e))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
