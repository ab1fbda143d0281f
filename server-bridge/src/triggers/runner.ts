/**
 * The trigger loop. Each tick: scans the triggers whose source is due (paused ones too:
 * their events wait), recording each scan's events as runs in the same transaction as
 * its cursor; settles runs whose job ended; takes up runs left `starting` (by a restart
 * or a passing failure); starts waiting runs as each trigger's limits allow. Ticks never
 * overlap; `poke` asks for one now (a job ended).
 */
import { randomBytes } from 'node:crypto';
import type { BaseLogger } from 'pino';
import { isRefusal } from '../domain-error';
import { isTerminal, type JobTable } from '../jobs/repository/jobs';
import { newJobId } from '../jobs/submission';
import { actionOf, type TriggerActions } from './actions/action';
import { holdReason, hourBefore, PAUSED } from './limits';
import type { TriggerOwners } from './owners';
import type { IRunRecord, RunTable } from './repository/runs';
import type { ITriggerRecord, TriggerTable } from './repository/triggers';
import { sourceOf, type IScan, type TriggerSources } from './sources/source';

/** Attempts of one run before it fails for good. */
export const MAX_ATTEMPTS = 5;
/** How long a run waits after a passing failure, unless the deps say otherwise. */
const RETRY_MS = 60_000;

export const newRunId = (): string => randomBytes(8).toString('hex');

export interface ITriggerRunnerDeps {
  triggers: TriggerTable;
  runs: RunTable;
  jobs: JobTable;
  sources: TriggerSources;
  actions: TriggerActions;
  owners: TriggerOwners;
  logger: Pick<BaseLogger, 'info' | 'warn' | 'error'>;
  tickMs?: number;
  /** How long a run waits after a passing failure (default a minute). */
  retryMs?: number;
  now?: () => Date;
}

export class TriggerRunner {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | null = null;
  private again = false;
  private readonly lastScan = new Map<string, number>();

  constructor(private readonly deps: ITriggerRunnerDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  start(): void {
    this.timer = setInterval(() => this.poke(), this.deps.tickMs ?? 5_000);
    this.timer.unref();
    this.poke();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.again = false;
    await this.ticking;
  }

  /** A tick as soon as the one under way (if any) has ended; nothing before `start`. */
  poke(): void {
    if (this.timer === undefined) {
      return;
    }
    if (this.ticking !== null) {
      this.again = true;
      return;
    }
    this.ticking = this.tick()
      .catch((e: unknown) => {
        this.deps.logger.error({ err: e }, 'trigger tick failed');
      })
      .finally(() => {
        this.ticking = null;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  async tick(): Promise<void> {
    const triggers = this.deps.triggers.all();
    for (const t of triggers) {
      await this.scanIfDue(t);
    }
    this.settleRunning();
    await this.resumeStarting();
    for (const t of triggers) {
      await this.startWaiting(t);
    }
  }

  /** Scans the trigger's source and records what it found (a failure is logged). */
  private async scanIfDue(t: ITriggerRecord): Promise<void> {
    const source = sourceOf(this.deps.sources, t.source);
    const now = this.now();
    const last = this.lastScan.get(t.id);
    if (last !== undefined && now.getTime() - last < source.intervalMs) {
      return;
    }
    try {
      const scan = await source.scan({
        source: t.source,
        owner: await this.deps.owners.of(t),
        cursor: this.deps.triggers.cursor(t.id),
        now
      });
      this.record(t, scan, now);
      // A scan cut at its bound goes on at the next tick.
      this.lastScan.set(t.id, scan.truncated ? 0 : now.getTime());
    } catch (e) {
      this.lastScan.set(t.id, now.getTime());
      this.deps.logger.warn(
        { trigger: t.id, owner: t.owner, err: (e as Error).message },
        'trigger scan failed'
      );
    }
  }

  /** The scan's events as waiting runs and its cursor, in one transaction. */
  record(t: ITriggerRecord, scan: IScan, now: Date): number {
    const at = now.toISOString();
    const reason = t.state === 'paused' ? PAUSED : null;
    const added = this.deps.runs.record(
      t.id,
      scan.events.map(e => ({
        id: newRunId(),
        key: e.key,
        event: e.event,
        reason
      })),
      at,
      () => this.deps.triggers.setCursor(t.id, scan.cursor, at)
    );
    if (added > 0) {
      this.deps.logger.info({ trigger: t.id, runs: added }, 'trigger fired');
    }
    return added;
  }

  /** Runs whose job has ended: done when it COMPLETED, failed otherwise. */
  private settleRunning(): void {
    for (const run of this.deps.runs.inState('running')) {
      const job =
        run.jobId === null ? undefined : this.deps.jobs.get(run.jobId)?.job;
      if (job === undefined || !isTerminal(job.state)) {
        continue;
      }
      const completed = job.state === 'COMPLETED';
      this.deps.runs.step(
        run.id,
        'running',
        completed ? 'jobCompleted' : 'jobFailed',
        {
          endedAt: this.now().toISOString(),
          reason: completed ? null : `job ${job.id} ended ${job.state}`
        }
      );
    }
  }

  /** Runs left `starting` (the bridge died mid-action, or it failed for a passing reason). */
  private async resumeStarting(): Promise<void> {
    const now = this.now();
    for (const run of this.deps.runs.inState('starting')) {
      if (run.retryAt !== null && Date.parse(run.retryAt) > now.getTime()) {
        continue;
      }
      const t = this.deps.triggers.get(run.triggerId);
      const attempts = run.attempts + 1;
      if (
        t !== undefined &&
        this.deps.runs.step(run.id, 'starting', 'retry', {
          attempts,
          retryAt: null
        })
      ) {
        await this.perform(t, { ...run, attempts });
      }
    }
  }

  /** Starts the trigger's waiting runs, oldest first, as far as its limits allow. */
  private async startWaiting(t: ITriggerRecord): Promise<void> {
    const waiting = this.deps.runs.inState('waiting', t.id);
    if (waiting.length === 0) {
      return;
    }
    if (t.state === 'paused') {
      waiting.forEach(r => this.deps.runs.setReason(r.id, PAUSED));
      return;
    }
    const now = this.now();
    let going = this.deps.runs.going(t.id);
    const started = this.deps.runs.startedSince(t.id, hourBefore(now));
    for (const [i, run] of waiting.entries()) {
      const held = holdReason(t.limits, going, started);
      if (held !== null) {
        waiting.slice(i).forEach(r => this.deps.runs.setReason(r.id, held));
        return;
      }
      const at = now.toISOString();
      const claim = {
        claimedAt: at,
        startedAt: at,
        attempts: 1,
        reason: null,
        ...(t.action.kind === 'submit' ? { jobId: newJobId() } : {})
      };
      if (this.deps.runs.step(run.id, 'waiting', 'claim', claim)) {
        going += 1;
        started.push(at);
        await this.perform(t, { ...run, ...claim, state: 'starting' });
      }
    }
  }

  /** Carries out a claimed run's action and records how it went. */
  private async perform(t: ITriggerRecord, run: IRunRecord): Promise<void> {
    const runs = this.deps.runs;
    try {
      const owner = await this.deps.owners.of(t);
      const outcome = await actionOf(this.deps.actions, t.action).perform(
        { trigger: t, run, owner },
        t.action
      );
      runs.step(run.id, 'starting', outcome.step, {
        result: outcome.result,
        reason: null,
        ...(outcome.step === 'finished'
          ? { endedAt: this.now().toISOString() }
          : {})
      });
    } catch (e) {
      const message = (e as Error).message;
      if (isRefusal(e) || run.attempts >= MAX_ATTEMPTS) {
        runs.step(run.id, 'starting', 'failed', {
          endedAt: this.now().toISOString(),
          reason: message
        });
      } else {
        runs.step(run.id, 'starting', 'retry', {
          retryAt: new Date(
            this.now().getTime() + (this.deps.retryMs ?? RETRY_MS)
          ).toISOString(),
          reason: `attempt ${run.attempts} failed, trying again: ${message}`
        });
      }
      this.deps.logger.warn(
        { trigger: t.id, run: run.id, attempt: run.attempts, err: message },
        'trigger action failed'
      );
    }
  }
}
