/**
 * When a job with declared outputs ends: each completed element's outputs go from its
 * working directory to their tiers (the bridge's credentials, on the owner's behalf, with
 * the owner's groups at submit), each object written gets its lineage record, and the
 * job shows how each output's stage-out went. A failure is recorded on that output (and
 * audited); the job itself stays as it ended. Each output is tried a bounded number of
 * times within a deadline, so every stage-out ends and the job's end is announced.
 */
import type { BaseLogger } from 'pino';
import type { BridgeConfig } from '../config';
import type { Job, JobOutput } from '../contract';
import type { IClusterAccess } from '../credentials/access';
import { isRefusal } from '../domain-error';
import type { JobEvents } from '../jobs/events';
import type { IJobRecord, JobTable } from '../jobs/repository/jobs';
import type { Store } from '../store';
import type { StorageService } from '../storage/service';
import type { IWrittenObject } from '../storage/staging';
import { withTimeout } from '../with-timeout';
import { stagedOutputPath } from './job-data';
import { inputsOfElement } from './job-inputs';
import {
  JobDataPlanTable,
  LineageTable,
  type JobDataPlan,
  type PlannedOutput
} from './repository/lineage';

export interface IStageOutDeps {
  storage: StorageService;
  access: IClusterAccess;
  plans: JobDataPlanTable;
  lineage: LineageTable;
  /** Where the job's outputs' states are stored and announced. */
  jobs: JobTable;
  events: JobEvents;
  logger: Pick<BaseLogger, 'info' | 'warn'>;
  /** Failed stage-outs are audited here (the bridge's store). */
  audit?: Pick<Store, 'audit'>;
  /** Attempts, backoff and deadline (`stageOut` of the config); its defaults when absent. */
  limits?: BridgeConfig['stageOut'];
  now?: () => Date;
  /** Waits between attempts (tests pass a faster one). */
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_STAGE_OUT_LIMITS: BridgeConfig['stageOut'] = {
  attempts: 3,
  backoffSeconds: 10,
  deadlineMinutes: 60
};

/** Errors that another attempt cannot mend: the job wrote nothing, no access, no room. */
const permanent = isRefusal;

const wait = (ms: number): Promise<void> =>
  new Promise(resolve => setTimeout(resolve, ms).unref());

export class StageOut {
  /** Jobs whose stage-out runs: a resume after a new election leaves them to it. */
  private readonly staging = new Set<string>();

  constructor(private readonly deps: IStageOutDeps) {}

  private get copies() {
    return this.deps.plans.copies;
  }

  /**
   * The poller's hook for a job that has just ended: stages its outputs out, then stores
   * and announces their states. Resolves to the job as stored then; never rejects.
   */
  async onJobEnded(rec: IJobRecord): Promise<Job> {
    if (this.staging.has(rec.job.id)) {
      return rec.job;
    }
    this.staging.add(rec.job.id);
    try {
      const staged = await this.run(rec);
      if (staged.outputs === rec.job.outputs) {
        return rec.job;
      }
      const current = this.deps.jobs.get(rec.job.id)?.job ?? rec.job;
      const job = {
        ...current,
        ...(staged.outputs === undefined ? {} : { outputs: staged.outputs }),
        updatedAt: (this.deps.now?.() ?? new Date()).toISOString()
      };
      this.deps.jobs.update(job);
      this.deps.events.emit(job);
      return job;
    } catch (e) {
      this.deps.logger.warn(
        { job: rec.job.id, err: (e as Error).message },
        'job stage-out failed'
      );
      return rec.job;
    } finally {
      this.staging.delete(rec.job.id);
    }
  }

  /**
   * Stages out the jobs that ended while no stage-out ran or finished (the bridge stopped
   * in between): at start, before the pollers. The files an earlier try copied and that
   * are unchanged on the tier since are kept; what is missing or differs is copied.
   */
  async resume(): Promise<number> {
    const ended = this.deps.jobs.endedAwaitingStageOut();
    for (const rec of ended) {
      await this.onJobEnded(rec);
    }
    return ended.length;
  }

  /** The job with its outputs' stage-out states; the job as it was when it declared none. */
  async run(rec: IJobRecord): Promise<Job> {
    const { job } = rec;
    const plan = this.deps.plans.get(job.id);
    if (plan === undefined || plan.outputs.length === 0) {
      return job;
    }
    const owner = { name: plan.owner, groups: plan.groups };
    const limits = this.deps.limits ?? DEFAULT_STAGE_OUT_LIMITS;
    const deadline = this.clock() + limits.deadlineMinutes * 60_000;
    const states: JobOutput[] = [];
    try {
      for (const [i, planned] of plan.outputs.entries()) {
        const declared = job.outputs?.[i];
        if (declared !== undefined) {
          const state = await this.attempts(deadline, limits, signal =>
            this.stageOne(rec, plan, planned, declared, owner, signal)
          ).catch((e: unknown) => failed(declared, e));
          if (state.stageOut === 'failed') {
            this.auditFailure(rec, state);
          }
          states.push(state);
        }
      }
    } finally {
      plan.outputs.forEach(o =>
        this.deps.storage.staging.release(o.reservationId)
      );
    }
    this.copies.forget(job.id);
    this.deps.logger.info(
      {
        job: job.id,
        outputs: states.map(o => `${o.tier}:${o.path} ${o.stageOut}`)
      },
      'job outputs staged out'
    );
    return { ...job, outputs: states };
  }

  private clock(): number {
    return (this.deps.now?.() ?? new Date()).getTime();
  }

  /**
   * Runs `fn` until it succeeds, at most `limits.attempts` times with a doubling pause
   * between, each try cut off at `deadline`; rejects with the last reason.
   */
  private async attempts<T>(
    deadline: number,
    limits: BridgeConfig['stageOut'],
    fn: (signal: AbortSignal) => Promise<T>
  ): Promise<T> {
    const sleep = this.deps.sleep ?? wait;
    for (let attempt = 1; ; attempt++) {
      const left = deadline - this.clock();
      if (left <= 0) {
        throw new Error(
          `not finished within the stage-out deadline (${limits.deadlineMinutes} minutes)`
        );
      }
      try {
        return await withTimeout(left, fn);
      } catch (e) {
        const timedOut = this.clock() >= deadline;
        const last = attempt >= limits.attempts || permanent(e) || timedOut;
        if (last) {
          throw timedOut
            ? new Error(
                `not finished within the stage-out deadline (${limits.deadlineMinutes} minutes)`
              )
            : new Error(
                `${(e as Error).message}${attempt > 1 ? ` (after ${attempt} attempts)` : ''}`
              );
        }
        const pause = limits.backoffSeconds * 1000 * 2 ** (attempt - 1);
        await sleep(Math.min(pause, Math.max(0, deadline - this.clock())));
      }
    }
  }

  private auditFailure(rec: IJobRecord, output: JobOutput): void {
    this.deps.audit?.audit({
      user: rec.job.owner,
      action: 'job.stage-out-failed',
      target: rec.job.id,
      details: {
        tier: output.tier,
        path: output.path,
        element: output.element,
        reason: output.error ?? null
      }
    });
  }

  private async stageOne(
    rec: IJobRecord,
    plan: JobDataPlan,
    planned: PlannedOutput,
    declared: JobOutput,
    owner: { name: string; groups: string[] },
    signal: AbortSignal
  ): Promise<JobOutput> {
    const element = rec.job.elements.find(e => e.index === planned.element);
    if (element?.state !== 'COMPLETED') {
      return { ...declared, stageOut: 'skipped' };
    }
    const written = await this.deps.access.run(
      rec.job.cluster,
      rec.job.owner,
      async s =>
        this.deps.storage.staging.copyOut(
          owner,
          s.storage(rec.workdir),
          stagedOutputPath(planned.element, planned.index),
          planned,
          planned.folder,
          this.copies.journal(rec.job.id, planned.reservationId)
        )
    );
    if (signal.aborted) {
      // The deadline passed while it copied: the output is already failed.
      return { ...declared, stageOut: 'failed' };
    }
    this.record(rec, plan, planned, written);
    return { ...declared, stageOut: 'done' };
  }

  private record(
    rec: IJobRecord,
    plan: JobDataPlan,
    planned: PlannedOutput,
    written: readonly IWrittenObject[]
  ): void {
    const element = rec.job.elements.find(e => e.index === planned.element);
    const createdAt = (this.deps.now?.() ?? new Date()).toISOString();
    const inputs = inputsOfElement(plan.inputs, planned.element);
    for (const object of written) {
      this.deps.lineage.put({
        scopeRoot: object.scopeRoot,
        inputs: inputs.map(i => ({
          tier: i.tier,
          scopeRoot: i.scopeRoot,
          path: i.path,
          version: i.version
        })),
        record: {
          tier: object.tier,
          path: object.path,
          version: object.version,
          job: {
            id: rec.job.id,
            owner: rec.job.owner,
            name: rec.job.name,
            element: planned.element,
            notebookPath: rec.job.notebookPath,
            notebookSha256: plan.notebookSha256,
            parameters: element?.parameters ?? {}
          },
          inputs: inputs.map(i => ({
            tier: i.tier,
            path: i.path,
            version: i.version
          })),
          createdAt
        }
      });
    }
  }
}

function failed(output: JobOutput, e: unknown): JobOutput {
  return {
    ...output,
    stageOut: 'failed',
    error: e instanceof Error ? e.message : String(e)
  };
}
