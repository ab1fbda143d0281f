/**
 * The estimate's look at a job's declared data: the same checks as a submit (each input
 * readable, each output writable with room for its estimate, the data-class rules), but
 * collected as errors and warnings instead of thrown, and without side effects: the
 * outputs' estimates are reserved only for the check and given back at once.
 */
import { randomBytes } from 'node:crypto';
import type { TierConfig } from '../config';
import type { JobDataEstimate, JobSubmit } from '../contract';
import { DomainError, isRefusal } from '../domain-error';
import {
  checkDerivedOutputs,
  checkSensitiveTiersOnPartition
} from '../policy/data-classes';
import type { StorageService } from '../storage/service';
import type { IStorageUser } from '../storage/tiers';
import type { IJobDataContext, JobDataPlanner } from './job-data';
import { expandInputs, lookUpInputs, type IExpandedInput } from './job-inputs';

type Problem = JobDataEstimate['errors'][number];
type Tier = Pick<TierConfig, 'name' | 'class'>;

/** A refusal as the estimate lists it; a failure of the bridge or a backend is thrown. */
function problem(e: unknown, uri?: string): Problem {
  if (!isRefusal(e)) {
    throw e;
  }
  return {
    code: e.code,
    message: e.message,
    ...(uri === undefined ? {} : { uri })
  };
}

/** Runs `fn`; a refusal goes to `errors` and the answer is null. */
async function collect<T>(
  errors: Problem[],
  fn: () => T | Promise<T>,
  uri?: string
): Promise<T | null> {
  try {
    return await fn();
  } catch (e) {
    errors.push(problem(e, uri));
    return null;
  }
}

export async function estimateJobData(
  storage: StorageService,
  planner: JobDataPlanner,
  user: IStorageUser,
  req: JobSubmit,
  ctx: Omit<IJobDataContext, 'jobId'>
): Promise<JobDataEstimate> {
  const errors: Problem[] = [];
  const answer: JobDataEstimate = {
    inputs: [],
    outputs: [],
    warnings: [],
    errors
  };
  const expanded =
    (await collect(errors, () =>
      expandInputs(req.inputs, ctx.elements, ctx.now)
    )) ?? [];
  const inputTiers: Tier[] = [];
  const found = await lookUpInputs(expanded, (input: IExpandedInput) =>
    collect(
      errors,
      () => storage.staging.source(user, input.tier, input.path),
      input.uri
    )
  );
  found.forEach((source, i) => {
    const input = expanded[i];
    if (source === null || input === undefined) {
      return;
    }
    inputTiers.push({ name: source.tier, class: source.class });
    answer.inputs.push({
      uri: input.uri,
      tier: source.tier,
      path: source.path,
      ...(input.element === null ? {} : { element: input.element }),
      folder: source.folder,
      size: source.version.size
    });
  });
  const outputTiers = await checkOutputs(
    storage,
    planner,
    user,
    req,
    ctx,
    answer
  );
  await collect(errors, () =>
    checkSensitiveTiersOnPartition(
      [...inputTiers, ...outputTiers],
      ctx.cluster,
      ctx.partition
    )
  );
  await collect(errors, () => checkDerivedOutputs(inputTiers, outputTiers));
  answer.warnings.push(...dataWarnings(inputTiers, outputTiers, ctx));
  return answer;
}

/** Each output writable, the estimates together within the quotas; nothing kept reserved. */
async function checkOutputs(
  storage: StorageService,
  planner: JobDataPlanner,
  user: IStorageUser,
  req: JobSubmit,
  ctx: Omit<IJobDataContext, 'jobId'>,
  answer: JobDataEstimate
): Promise<Tier[]> {
  const declared =
    (await collect(answer.errors, () =>
      planner.declaredOutputs(req, { ...ctx, jobId: '{job}' })
    )) ?? [];
  const tiers: Tier[] = [];
  const held: string[] = [];
  const prefix = `estimate-${randomBytes(6).toString('hex')}-`;
  try {
    for (const o of declared) {
      const id = `${prefix}${o.index}-${o.element}`;
      const target = await collect(
        answer.errors,
        async () => {
          const t = await storage.staging.target(user, o.tier, o.path, {
            id,
            bytes: o.estimateBytes ?? 0,
            expiresAt: ctx.now.getTime() + 60_000
          });
          held.push(id);
          return t;
        },
        o.uri
      );
      if (target !== null) {
        tiers.push({ name: target.tier, class: target.class });
        answer.outputs.push({
          uri: o.uri,
          tier: target.tier,
          path: target.path,
          element: o.element,
          estimateBytes: o.estimateBytes
        });
      }
    }
  } finally {
    held.forEach(id => storage.staging.release(id));
  }
  return tiers;
}

/** What the data classes mean for this job when they allow it. */
function dataWarnings(
  inputs: readonly Tier[],
  outputs: readonly Tier[],
  ctx: Omit<IJobDataContext, 'jobId'>
): string[] {
  const names = (tiers: readonly Tier[], cls: TierConfig['class']) => [
    ...new Set(tiers.filter(t => t.class === cls).map(t => t.name))
  ];
  const warnings: string[] = [];
  const sensitiveIn = names(inputs, 'sensitive');
  const sensitiveOut = names(outputs, 'sensitive');
  if (sensitiveIn.length > 0) {
    warnings.push(
      `A sensitive input (${sensitiveIn.join(', ')}) keeps the job on compliant partitions (${ctx.cluster.compliantPartitions.join(', ') || 'none'}); its outputs may not go to a public tier, and every access is audited`
    );
  } else if (sensitiveOut.length > 0) {
    warnings.push(
      `Writing to a sensitive tier (${sensitiveOut.join(', ')}) keeps the job on compliant partitions (${ctx.cluster.compliantPartitions.join(', ') || 'none'})`
    );
  }
  const open = names(outputs, 'public');
  if (open.length > 0 && sensitiveIn.length === 0) {
    warnings.push(
      `Outputs on a public tier (${open.join(', ')}) can be shared with anyone by link`
    );
  }
  return warnings;
}

/** The data part of an estimate where the bridge stages no data (no tiers configured). */
export function noStagingEstimate(): JobDataEstimate {
  return {
    inputs: [],
    outputs: [],
    warnings: [],
    errors: [
      problem(
        new DomainError(
          'bad_request',
          'This bridge does not stage job inputs and outputs (no storage tiers are configured)'
        )
      )
    ]
  };
}
