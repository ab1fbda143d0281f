/**
 * When a job with declared outputs ends: each completed element's outputs go from its
 * working directory to their tiers (the bridge's credentials, on the owner's behalf, with
 * the owner's groups at submit), each object written gets its lineage record, and the
 * job shows how each output's stage-out went. A failure is recorded on that output; the
 * job itself stays as it ended.
 */
import type { BaseLogger } from 'pino';
import type { Job, JobOutput } from '../contract';
import type { IClusterAccess } from '../credentials/access';
import type { JobEvents } from '../jobs/events';
import type { IJobRecord, JobTable } from '../jobs/repository/jobs';
import type { StorageService } from '../storage/service';
import type { IWrittenObject } from '../storage/staging';
import { stagedOutputPath } from './job-data';
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
  now?: () => Date;
}

export class StageOut {
  constructor(private readonly deps: IStageOutDeps) {}

  /**
   * The poller's hook for a job that has just ended: stages its outputs out, then stores
   * and announces their states. Resolves to the job as stored then; never rejects.
   */
  async onJobEnded(rec: IJobRecord): Promise<Job> {
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
    }
  }

  /**
   * Stages out the jobs that ended while no stage-out ran (the bridge stopped in between):
   * at start, before the pollers. Copies are idempotent: an output already on its tier is
   * written again with the same bytes.
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
    const states: JobOutput[] = [];
    try {
      for (const [i, planned] of plan.outputs.entries()) {
        const declared = job.outputs?.[i];
        if (declared !== undefined) {
          states.push(
            await this.stageOne(rec, plan, planned, declared, owner).catch(
              (e: unknown) => failed(declared, e)
            )
          );
        }
      }
    } finally {
      plan.outputs.forEach(o =>
        this.deps.storage.staging.release(o.reservationId)
      );
    }
    this.deps.logger.info(
      {
        job: job.id,
        outputs: states.map(o => `${o.tier}:${o.path} ${o.stageOut}`)
      },
      'job outputs staged out'
    );
    return { ...job, outputs: states };
  }

  private async stageOne(
    rec: IJobRecord,
    plan: JobDataPlan,
    planned: PlannedOutput,
    declared: JobOutput,
    owner: { name: string; groups: string[] }
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
          planned.folder
        )
    );
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
    for (const object of written) {
      this.deps.lineage.put({
        scopeRoot: object.scopeRoot,
        inputs: plan.inputs.map(i => ({
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
          inputs: plan.inputs.map(i => ({
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
