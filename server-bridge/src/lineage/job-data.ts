/**
 * A job's declared inputs and outputs at submit: the checks (each input readable, each
 * output writable with room for its estimate, the data-class rules), the plan kept for
 * the stage-out, what the job sees (`HPCB_INPUT_<i>`, per element for an input with
 * `{element}`, `HPCB_OUTPUT_DIR`, `HPCB_OUTPUT_<i>`) and the stage-in into its working
 * directory.
 */
import { createHash } from 'node:crypto';
import type { ClusterConfig } from '../config';
import {
  parseTierUri,
  type JobDataEstimate,
  type JobInput,
  type JobOutput,
  type JobSubmit
} from '../contract';
import { DomainError } from '../domain-error';
import {
  checkDerivedOutputs,
  checkSensitiveTiersOnPartition
} from '../policy/data-classes';
import type { IOutputDirOptions, IUserClusterPort } from '../ports/slurm';
import { baseName } from '../storage/paths';
import type { StorageService } from '../storage/service';
import type { IStorageUser } from '../storage/tiers';
import { estimateJobData } from './data-estimate';
import {
  expandInputs,
  inputIndex,
  lookUpInputs,
  plannedInput
} from './job-inputs';
import {
  JobDataPlanTable,
  type JobDataPlan,
  type PlannedInput,
  type PlannedOutput
} from './repository/lineage';
import { dateValue, expandPlaceholders } from './uris';

/** What the submit knows when the job's data is checked. */
export interface IJobDataContext {
  jobId: string;
  cluster: ClusterConfig;
  partition: string;
  /** Array elements (1 for a plain job). */
  elements: number;
  timeMinutes: number;
  now: Date;
}

/** The ids of a job's output reservations start with this. */
const reservationPrefix = (jobId: string): string => `job-${jobId}-`;

/** How long past its time limit an output's reservation is held for a job still queued. */
const RESERVATION_SLACK_MS = 7 * 24 * 3600 * 1000;

export const OUTPUT_DIR_VARIABLE = 'HPCB_OUTPUT_DIR';
export const inputVariable = (i: number): string => `HPCB_INPUT_${i}`;
export const outputVariable = (i: number): string => `HPCB_OUTPUT_${i}`;

/**
 * Where the input at position `i` of the plan lands in the working directory when it is
 * copied (an element's own input in a folder of that element).
 */
export function stagedInputPath(input: PlannedInput, i: number): string {
  const index = inputIndex(input, i);
  const dir =
    input.element === undefined || input.element === null
      ? `data/in/${index}`
      : `data/in/${index}/${input.element}`;
  return input.folder ? dir : `${dir}/${baseName(input.path)}`;
}

/** Where element `element` writes output `index`, relative to the working directory. */
export function stagedOutputPath(element: number, index: number): string {
  return `data/out/${element}/${index}`;
}

interface IDeclaredOutput {
  uri: string;
  tier: string;
  path: string;
  folder: boolean;
  estimateBytes: number | null;
}

export function notebookSha256(content: JobSubmit['notebook']['content']) {
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

export class JobDataPlanner {
  readonly plans: JobDataPlanTable;

  constructor(
    private readonly storage: StorageService,
    plans: JobDataPlanTable
  ) {
    this.plans = plans;
  }

  /**
   * Checks the declared data and reserves the outputs' estimates; null when the job
   * declares none. Throws 400/403/404/413 as the storage API does, and 403
   * `policy_refused` for a data-class rule.
   */
  async prepare(
    user: IStorageUser,
    req: JobSubmit,
    ctx: IJobDataContext
  ): Promise<JobDataPlan | null> {
    if (req.inputs === undefined && req.outputs === undefined) {
      return null;
    }
    const sources = await lookUpInputs(
      expandInputs(req.inputs, ctx.elements, ctx.now),
      async input => ({
        input,
        source: await this.storage.staging.source(user, input.tier, input.path)
      })
    );
    const declared = this.declaredOutputs(req, ctx);
    const outputTiers = declared.map(o =>
      this.storage.core.directory.tier(o.tier, user)
    );
    const inputTiers = sources.map(s => ({
      name: s.source.tier,
      class: s.source.class
    }));
    // Writing to a sensitive tier is handling sensitive data too.
    checkSensitiveTiersOnPartition(
      [...inputTiers, ...outputTiers],
      ctx.cluster,
      ctx.partition
    );
    checkDerivedOutputs(inputTiers, outputTiers);
    const outputs = await this.reserveOutputs(user, declared, ctx);
    return {
      owner: user.name,
      groups: [...user.groups],
      notebookSha256: notebookSha256(req.notebook.content),
      inputs: sources.map(({ input, source }) =>
        plannedInput(input, source, ctx.cluster.name)
      ),
      outputs
    };
  }

  /** The submit's checks of the declared data, as the estimate answers them; no side effects. */
  estimate(
    user: IStorageUser,
    req: JobSubmit,
    ctx: Omit<IJobDataContext, 'jobId'>
  ): Promise<JobDataEstimate> {
    return estimateJobData(this.storage, this, user, req, ctx);
  }

  /** Each output expanded for each element; 400 for a sweep output without `{element}`. */
  declaredOutputs(
    req: JobSubmit,
    ctx: IJobDataContext
  ): (IDeclaredOutput & { index: number; element: number })[] {
    const date = dateValue(ctx.now);
    const seen = new Set<string>();
    return (req.outputs ?? []).flatMap((declaration, index) => {
      const { uri, estimateBytes } =
        typeof declaration === 'string'
          ? { uri: declaration, estimateBytes: undefined }
          : declaration;
      const parts = parseTierUri(uri);
      if (ctx.elements > 1 && !parts.path.includes('{element}')) {
        throw new DomainError(
          'bad_request',
          `${uri}: every element of a sweep writes its own outputs; add {element} to the path`
        );
      }
      return Array.from({ length: ctx.elements }, (_, element) => {
        const path = expandPlaceholders(uri, parts.path, {
          date,
          job: ctx.jobId,
          element: String(element)
        });
        const key = `${parts.tier}:${path}`;
        if (seen.has(key)) {
          throw new DomainError(
            'bad_request',
            `Two outputs go to ${key}; each output needs a place of its own`
          );
        }
        seen.add(key);
        return {
          uri,
          tier: parts.tier,
          path,
          folder: parts.folder,
          estimateBytes: estimateBytes ?? null,
          index,
          element
        };
      });
    });
  }

  private async reserveOutputs(
    user: IStorageUser,
    declared: readonly (IDeclaredOutput & { index: number; element: number })[],
    ctx: IJobDataContext
  ): Promise<PlannedOutput[]> {
    const expiresAt =
      ctx.now.getTime() + ctx.timeMinutes * 60_000 + RESERVATION_SLACK_MS;
    const planned: PlannedOutput[] = [];
    try {
      for (const o of declared) {
        const reservationId = `${reservationPrefix(ctx.jobId)}${o.index}-${o.element}`;
        const target = await this.storage.staging.target(user, o.tier, o.path, {
          id: reservationId,
          bytes: o.estimateBytes ?? 0,
          expiresAt
        });
        planned.push({
          tier: target.tier,
          scopeKey: target.scopeKey,
          scopeRoot: target.scopeRoot,
          path: target.path,
          uri: o.uri,
          index: o.index,
          element: o.element,
          folder: o.folder,
          estimateBytes: o.estimateBytes,
          reservationId
        });
      }
    } catch (e) {
      planned.forEach(p => this.storage.staging.release(p.reservationId));
      throw e;
    }
    return planned;
  }

  /** The job's view of its data: where each input every element reads is. */
  environment(plan: JobDataPlan, workdir: string): Record<string, string> {
    return Object.fromEntries(
      plan.inputs.flatMap((input, i) =>
        input.element === undefined || input.element === null
          ? [[inputVariable(inputIndex(input, i)), where(input, i, workdir)]]
          : []
      )
    );
  }

  /** Each element's own inputs (`{element}`): variable → its value for each element. */
  elementEnvironment(
    plan: JobDataPlan,
    workdir: string
  ): Record<string, string[]> {
    const env: Record<string, string[]> = {};
    plan.inputs.forEach((input, i) => {
      if (input.element !== undefined && input.element !== null) {
        const values = (env[inputVariable(inputIndex(input, i))] ??= []);
        values[input.element] = where(input, i, workdir);
      }
    });
    return env;
  }

  /** What the batch script creates per element for the outputs; null without outputs. */
  outputDir(plan: JobDataPlan, workdir: string): IOutputDirOptions | null {
    const first = plan.outputs.filter(o => o.element === 0);
    if (first.length === 0) {
      return null;
    }
    return {
      variable: OUTPUT_DIR_VARIABLE,
      root: `${workdir}/data/out`,
      entries: first.map(o => ({
        variable: outputVariable(o.index),
        name: String(o.index),
        folder: o.folder
      }))
    };
  }

  /** Copies the inputs that are not on the job's cluster into its working directory. */
  async stageIn(
    user: IStorageUser,
    plan: JobDataPlan,
    session: IUserClusterPort,
    workdir: string
  ): Promise<void> {
    const target = session.storage(workdir);
    for (const [i, input] of plan.inputs.entries()) {
      if (input.clusterPath === null) {
        await this.storage.staging.copyIn(
          user,
          input,
          target,
          stagedInputPath(input, i)
        );
      }
    }
  }

  /** Gives back every output reservation of job `jobId` (a submit that died half-way). */
  releaseJob(jobId: string): void {
    this.storage.staging.releaseAll(reservationPrefix(jobId));
  }

  /** Gives back the outputs' reservations (a submit that failed, or a finished stage-out). */
  release(plan: JobDataPlan): void {
    plan.outputs.forEach(o => this.storage.staging.release(o.reservationId));
  }

  /** The inputs and outputs as the Job lists them. */
  jobFields(plan: JobDataPlan): { inputs: JobInput[]; outputs: JobOutput[] } {
    return {
      inputs: plan.inputs.map(i => ({
        uri: i.uri,
        tier: i.tier,
        path: i.path,
        folder: i.folder,
        version: i.version,
        ...(i.element === undefined || i.element === null
          ? {}
          : { element: i.element })
      })),
      outputs: plan.outputs.map(o => ({
        uri: o.uri,
        tier: o.tier,
        path: o.path,
        folder: o.folder,
        element: o.element,
        estimateBytes: o.estimateBytes,
        stageOut: 'pending'
      }))
    };
  }
}

/** Where input `i` of the plan is on the cluster for the job. */
function where(input: PlannedInput, i: number, workdir: string): string {
  return input.clusterPath ?? `${workdir}/${stagedInputPath(input, i)}`;
}
