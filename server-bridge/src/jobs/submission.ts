/**
 * Submitting a planned job: its working directory on the cluster (inputs, the runner,
 * the batch script), sbatch and its refusals as HTTP errors, the job as first stored.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type {
  Job,
  JobEstimate,
  JobInput,
  JobOutput,
  JobSubmit,
  NotebookContent
} from '../contract';
import { DomainError } from '../domain-error';
import type { IAuthUser } from '../auth/decide';
import type { IClusterAccess } from '../credentials/access';
import { noStagingEstimate } from '../lineage/data-estimate';
import type { JobDataPlanner } from '../lineage/job-data';
import type { JobDataPlan } from '../lineage/repository/lineage';
import type { ITierUse } from '../policy/data-classes';
import type { IUserClusterPort } from '../ports/slurm';
import { ENDPOINTS_ENV_FILE } from './job-endpoints';
import type { Store } from '../store';
import type { TierUseAuditor } from '../storage/tier-use-audit';
import type { ISubmitOptions, JobPlan } from './service';

let runnerSource: string | null = null;
function runner(): string {
  runnerSource ??= readFileSync(
    resolve(__dirname, '..', '..', 'runner', 'hpc_bridge_runner.py'),
    'utf8'
  );
  return runnerSource;
}

/**
 * Checks a job's declared inputs and outputs and reserves the outputs' estimates; null
 * when it declares none. A data-class refusal is audited.
 */
export async function prepareJobData(
  deps: { data?: JobDataPlanner | undefined; store: Pick<Store, 'audit'> },
  user: IAuthUser,
  req: JobSubmit,
  p: JobPlan,
  id: string
): Promise<JobDataPlan | null> {
  if (req.inputs === undefined && req.outputs === undefined) {
    return null;
  }
  if (deps.data === undefined) {
    throw new DomainError(
      'bad_request',
      'This bridge does not stage job inputs and outputs (no storage tiers are configured)'
    );
  }
  return deps.data
    .prepare(user, req, {
      jobId: id,
      cluster: p.cluster,
      partition: p.profile.partition,
      elements: p.points.length,
      timeMinutes: p.resources.timeMinutes,
      now: new Date()
    })
    .catch((e: unknown) => {
      auditDataRefusal(deps.store, user, req, p, e);
      throw e;
    });
}

/**
 * `sbatch --test-only` of the job's script (`script(home)`), with the checks of its
 * declared data (as a submit checks them, nothing reserved) when it has any.
 */
export async function estimateJob(
  deps: {
    data?: JobDataPlanner | undefined;
    access: IClusterAccess;
  },
  user: IAuthUser,
  req: JobSubmit,
  p: JobPlan,
  script: (home: string) => string
): Promise<JobEstimate> {
  const data =
    req.inputs === undefined && req.outputs === undefined
      ? null
      : deps.data === undefined
        ? noStagingEstimate()
        : await deps.data.estimate(user, req, {
            cluster: p.cluster,
            partition: p.profile.partition,
            elements: p.points.length,
            timeMinutes: p.resources.timeMinutes,
            now: new Date()
          });
  const slurm = await deps.access.run(p.cluster.name, user.name, async s => {
    const home = await s.files.home();
    try {
      return await s.slurm.testOnly(script(home), home);
    } catch (e) {
      throw sbatchRefusal(p.cluster.name, e);
    }
  });
  return data === null ? slurm : { ...slurm, data };
}

/** A data-class rule refused the declared data: one record per sensitive tier named. */
function auditDataRefusal(
  store: Pick<Store, 'audit'>,
  user: IAuthUser,
  req: JobSubmit,
  p: JobPlan,
  e: unknown
): void {
  if (!(e instanceof DomainError) || e.code !== 'policy_refused') {
    return;
  }
  const named = e.details as { tiers?: string[]; inputTiers?: string[] };
  for (const tier of named.tiers ?? named.inputTiers ?? []) {
    store.audit({
      user: user.name,
      action: 'job.uses-tier',
      target: tier,
      details: {
        outcome: 'refused',
        name: req.name,
        profile: p.profile.name,
        partition: p.profile.partition,
        inputs: req.inputs ?? [],
        outputs: (req.outputs ?? []).map(o =>
          typeof o === 'string' ? o : o.uri
        ),
        reason: e.message
      }
    });
  }
}

export function newJobId(): string {
  return randomBytes(6).toString('hex');
}

/** `<home>/<jobs root>/<id>`: the job's working directory. */
export function jobWorkdir(home: string, root: string, id: string): string {
  return `${home.replace(/\/+$/, '')}/${root}/${id}`;
}

/** Submits the written batch script; sbatch's own refusal is the request's fault, a transport failure is not. */
export async function sbatch(
  s: IUserClusterPort,
  cluster: string,
  workdir: string
): Promise<string> {
  try {
    return await s.slurm.submit(`${workdir}/job.sbatch`, workdir);
  } catch (e) {
    if ((e as { stage?: unknown }).stage !== undefined) {
      throw e;
    }
    throw sbatchRefusal(cluster, e);
  }
}

export async function writeWorkdir(
  s: IUserClusterPort,
  workdir: string,
  notebooks: readonly NotebookContent[],
  script: string,
  /** The endpoints' keys (`endpoints.env`, mode 0600); null: none. */
  secrets: string | null = null
): Promise<void> {
  await s.files.writeAll(
    ['inputs', 'outputs', 'progress', 'logs'].map(d => `${workdir}/${d}`),
    [
      ...notebooks.map((nb, i) => ({
        path: `${workdir}/inputs/${i}.ipynb`,
        data: JSON.stringify(nb)
      })),
      { path: `${workdir}/runner.py`, data: runner() },
      { path: `${workdir}/job.sbatch`, data: script, mode: 0o700 },
      ...(secrets === null
        ? []
        : [
            {
              path: `${workdir}/${ENDPOINTS_ENV_FILE}`,
              data: secrets,
              mode: 0o600
            }
          ])
    ]
  );
}

/** sbatch failed: 503 when the scheduler did not answer, else the request's fault (400). */
export function sbatchRefusal(cluster: string, e: unknown): DomainError {
  const message = (e as Error).message;
  if ((e as { controllerDown?: unknown }).controllerDown === true) {
    return new DomainError(
      'upstream_unavailable',
      `The scheduler of cluster ${cluster} (slurmctld) does not answer, so nothing was submitted (${message}). Try again in a minute; jobs already submitted keep running.`
    );
  }
  return new DomainError('bad_request', message);
}

/** The stored job right after sbatch: every element SUBMITTED. */
export function submittedJob(a: {
  id: string;
  owner: string;
  req: JobSubmit;
  p: JobPlan;
  slurmId: string;
  resubmittedFrom: string | null;
  /** Declared inputs and outputs, as the Job lists them. */
  data?: { inputs: JobInput[]; outputs: JobOutput[] } | null;
  trigger?: { id: string; run: string };
}): Job {
  const { p, slurmId } = a;
  const now = new Date().toISOString();
  return {
    id: a.id,
    owner: a.owner,
    cluster: p.cluster.name,
    name: a.req.name,
    notebookPath: a.req.notebook.path,
    profile: p.profile.name,
    partition: p.profile.partition,
    resources: p.resources,
    state: 'SUBMITTED',
    slurmId,
    isArray: p.isArray,
    elements: p.points.map((parameters, index) => ({
      index,
      slurmId: p.isArray ? `${slurmId}_${index}` : slurmId,
      state: 'SUBMITTED',
      reason: null,
      node: null,
      exitCode: null,
      elapsedSeconds: null,
      maxRssMB: null,
      progress: null,
      parameters,
      startedAt: null,
      endedAt: null
    })),
    queuePosition: null,
    expectedStart: null,
    submittedAt: now,
    updatedAt: now,
    resubmittedFrom: a.resubmittedFrom,
    ...(p.uses.length === 0 ? {} : { tiers: p.uses.map(u => u.ref) }),
    ...(a.data?.inputs.length ? { inputs: a.data.inputs } : {}),
    ...(a.data?.outputs.length ? { outputs: a.data.outputs } : {}),
    ...(p.endpoints.length === 0 ? {} : { endpoints: p.endpoints }),
    ...(a.trigger === undefined ? {} : { trigger: a.trigger })
  };
}

/** The audit records of a submit: the job, and the tiers it uses. */
export function auditSubmit(
  store: Store,
  auditUses: TierUseAuditor,
  user: IAuthUser,
  job: Job,
  uses: readonly ITierUse[],
  options: ISubmitOptions
): void {
  const { resubmittedFrom, trigger, adopt } = options;
  store.audit({
    user: user.name,
    action:
      adopt !== undefined
        ? 'job.adopt'
        : resubmittedFrom === undefined
          ? 'job.submit'
          : 'job.resubmit',
    target: job.id,
    details: {
      cluster: job.cluster,
      slurmId: job.slurmId,
      profile: job.profile,
      notebook: job.notebookPath,
      elements: job.elements.length,
      ...(resubmittedFrom === undefined ? {} : { resubmittedFrom }),
      ...(trigger === undefined ? {} : { trigger })
    }
  });
  auditUses(user, uses, 'ok', {
    job: job.id,
    name: job.name,
    slurmId: job.slurmId,
    profile: job.profile,
    partition: job.partition
  });
}
