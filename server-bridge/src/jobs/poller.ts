/**
 * One poller per cluster. Each tick, while the store holds jobs that may still change:
 * ONE `squeue --json` (the whole queue, as the service account), ONE `sacct` for the jobs
 * that left the queue, progress files of running elements (SFTP as their owners); changed
 * jobs go to the store and the event bus. The first tick after start reconciles the store
 * with SLURM, so jobs outlive the bridge.
 */
import type { BaseLogger } from 'pino';
import { z } from 'zod';
import {
  JobErrorSchema,
  ProgressSchema,
  type Job,
  type JobElement
} from '../contract';
import type { IClusterAccess } from '../credentials/access';
import type { IAccountingRecord, IQueuePort } from '../ports/slurm';
import type { JobEvents } from './events';
import { isTerminal, type IJobRecord, type JobTable } from './repository/jobs';
import { applyTick, eventWorthy, needingAccounting, snapshot } from './track';
import { postWebhook, type IWebhookOptions } from './webhook';

/** What the runner adds to the progress file when a cell fails. */
const ProgressErrorSchema = z.object({ error: JobErrorSchema });

export interface IPollerDeps {
  cluster: string;
  queue: IQueuePort;
  table: JobTable;
  access: IClusterAccess;
  events: JobEvents;
  logger: Pick<BaseLogger, 'info' | 'warn' | 'debug'>;
  intervalMs: number;
  /** How webhooks are called (the admin's policy; fakes in unit tests). */
  webhooks: IWebhookOptions;
  /**
   * Called once for each job that has just ended, with its stored record (stage-out);
   * resolves to the job as it then is, which the job's webhook receives. Never rejects.
   */
  onEnded?: (rec: IJobRecord) => Promise<Job>;
}

export class JobPoller {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  /** Until started (on the leader), pokes do nothing: followers never poll. */
  private stopped = true;
  /** SLURM queries made, for tests and the benchmark. */
  ticks = 0;

  constructor(private readonly deps: IPollerDeps) {}

  get started(): boolean {
    return !this.stopped;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /** Runs a tick soon (after a submit or an action); coalesces with a running one. */
  poke(): void {
    if (this.running !== null) {
      this.again = true;
    } else {
      this.schedule(250);
    }
  }

  /**
   * Runs a tick now, after the one in progress, and resolves when it has been stored (an
   * action answers the job as this tick leaves it).
   */
  async refresh(): Promise<void> {
    while (this.running !== null) {
      await this.running;
    }
    this.running = this.tick().catch((e: unknown) => {
      this.deps.logger.warn(
        { cluster: this.deps.cluster, err: (e as Error).message },
        'job poll failed'
      );
    });
    await this.running;
    this.running = null;
    // A timer that fired meanwhile found the tick busy and left the rescheduling to it.
    if (this.again) {
      this.again = false;
      this.schedule(250);
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) {
      return;
    }
    if (this.timer !== null) {
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runTick();
    }, ms);
    this.timer.unref();
  }

  private async runTick(): Promise<void> {
    if (this.running !== null) {
      this.again = true;
      return;
    }
    this.running = this.tick().catch((e: unknown) => {
      this.deps.logger.warn(
        { cluster: this.deps.cluster, err: (e as Error).message },
        'job poll failed'
      );
    });
    await this.running;
    this.running = null;
    const next = this.again ? 250 : this.deps.intervalMs;
    this.again = false;
    this.schedule(next);
  }

  /** One poll; public for tests. Does nothing (no SLURM query) without active jobs. */
  async tick(): Promise<void> {
    const { table, cluster, queue } = this.deps;
    const active = table.active(cluster);
    if (active.length === 0) {
      return;
    }
    this.ticks += 1;
    const snap = snapshot(await queue.queue());
    const missing = needingAccounting(
      active.map(r => r.job),
      snap
    );
    const accounting = new Map<string, IAccountingRecord>();
    if (missing.length > 0) {
      for (const rec of await queue.accounting(missing)) {
        accounting.set(rec.key, rec);
      }
    }
    const now = Date.now();
    const changed = (
      await Promise.all(
        active.map(async rec => {
          let next = applyTick(rec.job, snap, accounting, now);
          next = await this.withProgress(rec, next);
          if (
            JSON.stringify(eventWorthy(next)) ===
            JSON.stringify(eventWorthy(rec.job))
          ) {
            return [];
          }
          return [
            { rec, next: { ...next, updatedAt: new Date(now).toISOString() } }
          ];
        })
      )
    ).flat();
    // One transaction per tick: with thousands of queued jobs, one commit per job
    // blocked the event loop for seconds.
    table.updateMany(changed.map(c => c.next));
    for (const { rec, next } of changed) {
      this.deps.events.emit(next);
      if (isTerminal(next.state) && !isTerminal(rec.job.state)) {
        this.deps.logger.info(
          { job: next.id, state: next.state },
          'job finished'
        );
        void this.afterEnd({ ...rec, job: next });
      }
    }
  }

  /** The job's webhook learns of the end once its outputs are on their tiers. */
  private async afterEnd(rec: IJobRecord): Promise<void> {
    const job = (await this.deps.onEnded?.(rec)) ?? rec.job;
    if (rec.webhookUrl !== null) {
      await postWebhook(
        rec.webhookUrl,
        job,
        this.deps.logger,
        this.deps.webhooks
      );
    }
  }

  /**
   * Reads progress files of elements that run or have just ended, as the job's owner,
   * with the error the runner recorded there when a cell failed.
   */
  private async withProgress(rec: IJobRecord, job: Job): Promise<Job> {
    const wanted = job.elements.filter((el, i) => {
      const before = rec.job.elements[i];
      return (
        el.state === 'RUNNING' ||
        el.state === 'COMPLETING' ||
        (isTerminal(el.state) &&
          before !== undefined &&
          !isTerminal(before.state))
      );
    });
    if (wanted.length === 0) {
      return job;
    }
    try {
      const read = await this.deps.access.run(
        job.cluster,
        job.owner,
        async s => {
          const out = new Map<number, Pick<JobElement, 'progress' | 'error'>>();
          for (const el of wanted) {
            const data = await s.files.readFile(
              `${rec.workdir}/progress/${el.index}.json`,
              16384
            );
            if (data !== null) {
              const json: unknown = JSON.parse(data.toString('utf8'));
              const parsed = ProgressSchema.safeParse(json);
              if (parsed.success) {
                const failure = ProgressErrorSchema.safeParse(json);
                out.set(el.index, {
                  progress: parsed.data,
                  error: failure.success ? failure.data.error : null
                });
              }
            }
          }
          return out;
        }
      );
      const elements = job.elements.map(el => {
        const r = read.get(el.index);
        return r === undefined ? el : { ...el, ...r };
      });
      const failed = elements.find(el => (el.error ?? null) !== null);
      return { ...job, elements, error: failed?.error ?? null };
    } catch (e) {
      this.deps.logger.debug(
        { job: job.id, err: (e as Error).message },
        'cannot read job progress'
      );
      return job;
    }
  }
}
