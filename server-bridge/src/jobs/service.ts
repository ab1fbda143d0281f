/**
 * Jobs: submit (prepare notebooks, write the working directory over SFTP, sbatch as the
 * user), list/read with ownership checks, actions, log and output files.
 */
import type { BaseLogger } from 'pino';
import type { IAuthUser } from '../auth/decide';
import type { BridgeConfig, ProfileConfig } from '../config';
import {
  type Job,
  type JobEstimate,
  type JobListQuery,
  type JobSubmit,
  type NotebookContent,
  type Profile
} from '../contract';
import { CourseJobGate, type ICourseProfile } from '../courses/job-gate';
import type { IClusterAccess } from '../credentials/access';
import { DomainError } from '../domain-error';
import type { IBatchScripts } from '../ports/slurm';
import {
  checkJobPolicy,
  checkReachable,
  resolveTierUses,
  tierEnvironment
} from '../policy/data-classes';
import type { Store } from '../store';
import {
  resolveTierUsesAudited,
  tierUseAuditor,
  type TierUseAuditor
} from '../storage/tier-use-audit';
import type { JobDataPlanner } from '../lineage/job-data';
import type { JobDataPlan } from '../lineage/repository/lineage';
import type { JobEvents } from './events';
import {
  ENDPOINTS_ENV_FILE,
  JobKeysMinted,
  resolveJobEndpoints,
  type IJobEndpoints
} from './job-endpoints';
import { checkKernel, prepareNotebook } from './notebook';
import { readOutputNotebook } from './output';
import { expandSweep } from './sweep';
import { isTerminal, JobTable, type IJobRecord } from './repository/jobs';
import {
  auditSubmit,
  estimateJob,
  jobWorkdir,
  newJobId,
  prepareJobData,
  sbatch,
  submittedJob,
  writeWorkdir
} from './submission';
import { checkWebhookUrl, resolveResources } from './request-checks';

export type JobAction = 'cancel' | 'hold' | 'release';

export interface ISubmitOptions {
  resubmittedFrom?: string;
  /** The job's id, reserved before (a trigger run's); a new one when absent. */
  id?: string;
  /** The trigger run that submits it. */
  trigger?: { id: string; run: string };
  /** The SLURM id of a job already submitted for `id`: recorded, sbatch is not run. */
  adopt?: string;
}

export interface IJobServiceDeps {
  config: BridgeConfig;
  store: Store;
  access: IClusterAccess;
  /** Renders the batch script (the cluster adapter's). */
  scripts: IBatchScripts;
  events: JobEvents;
  logger: Pick<BaseLogger, 'info' | 'warn' | 'error'>;
  /** Asks the cluster's poller for an early tick (after a submit). */
  poke?: (cluster: string) => void;
  /** Runs a tick of the cluster's poller now and resolves once it is stored (after an action). */
  refresh?: (cluster: string) => Promise<void>;
  /** Declared inputs and outputs (absent: a job that declares them is refused). */
  data?: JobDataPlanner;
  /** Endpoints jobs call (absent: a job that declares one is refused). */
  endpoints?: IJobEndpoints;
}

export class JobService {
  readonly table: JobTable;
  /** Course job profiles and their per-student limits. */
  readonly courses: CourseJobGate;
  private readonly auditUses: TierUseAuditor;

  constructor(private readonly deps: IJobServiceDeps) {
    this.table = new JobTable(deps.store);
    this.courses = new CourseJobGate(deps.store, deps.config.profiles);
    this.auditUses = tierUseAuditor(deps.store, 'job.uses-tier');
  }

  /** The admin's profiles, and for a user also those of their courses. */
  profiles(user?: IAuthUser): Profile[] {
    const courses = user === undefined ? [] : this.courses.profilesFor(user);
    return [
      ...this.deps.config.profiles.map(p => ({ ...p })),
      ...courses.map(({ limits: _limits, reservation, ...p }) => ({
        ...p,
        ...(reservation === null ? {} : { reservation })
      }))
    ];
  }

  private profile(
    name: string,
    user: IAuthUser
  ): ProfileConfig & { course?: ICourseProfile } {
    const course = this.courses.resolve(user, name);
    if (course !== null) {
      return { ...course, course };
    }
    const p = this.deps.config.profiles.find(x => x.name === name);
    if (p === undefined) {
      throw new DomainError('bad_request', `No profile named "${name}"`, {
        profiles: this.deps.config.profiles.map(x => x.name)
      });
    }
    return p;
  }

  private clusterConfig(name: string) {
    const c = this.deps.config.clusters.find(x => x.name === name);
    if (c === undefined) {
      throw new DomainError(
        'internal',
        `profile names unknown cluster ${name}`
      );
    }
    return c;
  }

  /**
   * Validates a request into what the cluster gets; throws 400 on any problem, 404 for a
   * tier the user cannot read and 403 `policy_refused` (audited on submit) when a
   * data-class rule forbids the tiers on the profile's partition.
   */
  private plan(user: IAuthUser, req: JobSubmit, auditRefusal: boolean) {
    const profile = this.profile(req.profile, user);
    const resources = resolveResources(profile, req.resources);
    const course = profile.course ?? null;
    const cluster = this.clusterConfig(profile.cluster);
    const uses = auditRefusal
      ? resolveTierUsesAudited(
          this.deps.config,
          this.deps.store,
          user,
          req.tiers ?? [],
          'job.uses-tier',
          {
            name: req.name,
            profile: profile.name,
            partition: profile.partition
          }
        )
      : resolveTierUses(this.deps.config, user, req.tiers ?? []);
    checkReachable(uses, cluster.name, `a job on cluster ${cluster.name}`);
    try {
      checkJobPolicy(uses, cluster, profile.partition);
    } catch (e) {
      if (auditRefusal) {
        this.auditUses(user, uses, 'refused', {
          name: req.name,
          profile: profile.name,
          partition: profile.partition,
          reason: (e as Error).message
        });
      }
      throw e;
    }
    if (req.webhookUrl !== undefined) {
      checkWebhookUrl(req.webhookUrl, this.deps.config);
    }
    const points = expandSweep(req.parameters ?? {}, req.sweep);
    checkKernel(
      req.notebook.content,
      profile,
      points.some(p => Object.keys(p).length > 0)
    );
    if (course !== null) {
      this.courses.check(user, course, resources, points.length);
    }
    const notebooks = points.map(parameters =>
      prepareNotebook(req.notebook.content, {
        ...(req.cells === undefined ? {} : { cells: req.cells }),
        parameters
      })
    );
    return {
      profile,
      course,
      resources,
      points,
      notebooks,
      cluster,
      uses,
      endpoints: resolveJobEndpoints(this.deps.endpoints, user, req.endpoints),
      env: tierEnvironment(uses),
      isArray: req.sweep !== undefined
    };
  }

  /** The batch script of a planned job in `workdir`. */
  private script(
    req: JobSubmit,
    p: JobPlan,
    workdir: string,
    data: JobDataPlan | null = null,
    keys: JobKeysMinted | null = null
  ): string {
    const planner = this.deps.data;
    return this.deps.scripts.notebookJob({
      jobName: req.name,
      workdir,
      partition: p.profile.partition,
      resources: p.resources,
      arraySize: p.isArray ? p.points.length : null,
      python: p.cluster.jobs.python,
      env: {
        ...p.env,
        ...(data === null ? {} : planner?.environment(data, workdir))
      },
      reservation: p.course?.reservation ?? null,
      outputDir:
        data === null ? null : (planner?.outputDir(data, workdir) ?? null),
      elementEnv:
        data === null ? {} : (planner?.elementEnvironment(data, workdir) ?? {}),
      secretsFile: keys?.env ? `${workdir}/${ENDPOINTS_ENV_FILE}` : null
    });
  }

  /** `sbatch --test-only`, and the checks of the declared data (nothing reserved). */
  async estimate(user: IAuthUser, req: JobSubmit): Promise<JobEstimate> {
    const p = this.plan(user, req, false);
    return estimateJob(this.deps, user, req, p, home =>
      this.script(req, p, home)
    );
  }

  /**
   * Submits the job as `user`. `options.id` submits under an id chosen before (a trigger
   * run reserves it, so that a retry cannot make a second job); `options.adopt` records
   * a SLURM job already submitted for that id instead of running sbatch.
   */
  async submit(
    user: IAuthUser,
    req: JobSubmit,
    options: ISubmitOptions = {}
  ): Promise<Job> {
    const p = this.plan(user, req, true);
    const id = options.id ?? newJobId();
    if (options.id !== undefined) {
      // Output reservations a submit under this id left when the bridge died.
      this.deps.data?.releaseJob(id);
    }
    const data = await prepareJobData(this.deps, user, req, p, id);
    const admission = this.courses.admit(
      user,
      p.course,
      p.resources,
      p.points.length
    );
    // A job adopted after a restart already holds its keys (in its working directory).
    const keys = JobKeysMinted.mint(
      this.deps.endpoints,
      user,
      id,
      options.adopt === undefined ? p.endpoints : []
    );
    const { job, workdir, clusterUser } = await admission
      .until(this.submitOnCluster(user, req, p, id, options, data, keys))
      .catch((e: unknown) => {
        if (data !== null) {
          this.deps.data?.release(data);
        }
        keys.revoke();
        throw e;
      });
    if (data !== null) {
      this.deps.data?.plans.insert(id, data, job.submittedAt);
    }
    this.table.insert({
      job,
      workdir,
      clusterUser,
      webhookUrl: req.webhookUrl ?? null,
      request: req
    });
    admission.recorded(job.id);
    auditSubmit(this.deps.store, this.auditUses, user, job, p.uses, options);
    this.announce(job);
    return job;
  }

  /** Checks a request as a submit would, without touching the cluster or the tiers. */
  check(user: IAuthUser, req: JobSubmit): JobPlan {
    return this.plan(user, req, false);
  }

  /** SLURM ids of the user's jobs (since `since`) in the working directory of job `id`. */
  async onCluster(
    user: IAuthUser,
    req: JobSubmit,
    id: string,
    since: Date
  ): Promise<string[]> {
    const p = this.plan(user, req, false);
    return this.deps.access.run(p.cluster.name, user.name, async s =>
      s.slurm.jobsIn(
        jobWorkdir(await s.files.home(), p.cluster.jobs.root, id),
        since
      )
    );
  }

  /** Writes the working directory and runs sbatch (or adopts a job), as the user. */
  private submitOnCluster(
    user: IAuthUser,
    req: JobSubmit,
    p: JobPlan,
    id: string,
    options: ISubmitOptions,
    data: JobDataPlan | null,
    keys: JobKeysMinted
  ): Promise<{ job: Job; workdir: string; clusterUser: string }> {
    return this.deps.access.run(p.cluster.name, user.name, async s => {
      const workdir = jobWorkdir(await s.files.home(), p.cluster.jobs.root, id);
      let slurmId = options.adopt;
      if (slurmId === undefined) {
        const script = this.script(req, p, workdir, data, keys);
        const secrets =
          keys.env === null ? null : this.deps.scripts.secretEnv(keys.env);
        await writeWorkdir(s, workdir, p.notebooks, script, secrets);
        if (data !== null) {
          await this.deps.data?.stageIn(user, data, s, workdir);
        }
        slurmId = await sbatch(s, p.cluster.name, workdir);
      }
      const job = submittedJob({
        id,
        owner: user.name,
        req,
        p,
        slurmId,
        resubmittedFrom: options.resubmittedFrom ?? null,
        data: data === null ? null : (this.deps.data?.jobFields(data) ?? null),
        ...(options.trigger === undefined ? {} : { trigger: options.trigger })
      });
      return {
        job,
        workdir,
        clusterUser: await this.clusterUser(p.cluster.name, user.name)
      };
    });
  }

  /** Logs the new job, tells the owner's streams and asks the poller for an early look. */
  private announce(job: Job): void {
    this.deps.logger.info(
      { job: job.id, owner: job.owner, slurmId: job.slurmId },
      'job submitted'
    );
    this.deps.events.emit(job);
    this.deps.poke?.(job.cluster);
  }

  private async clusterUser(cluster: string, user: string): Promise<string> {
    return this.deps.access.credential(cluster, user).clusterUser;
  }

  /** The job if `user` may see it; 404 otherwise, so ids of others do not leak. */
  record(user: IAuthUser, id: string): IJobRecord {
    const rec = this.table.get(id);
    if (rec === undefined || (rec.job.owner !== user.name && !user.admin)) {
      throw new DomainError('not_found', `No job ${id}`);
    }
    return rec;
  }

  /** Whether element `index` of job `id` has ended (or is gone): a followed log stops then. */
  elementEnded(id: string, index: number): boolean {
    const el = this.table.get(id)?.job.elements.find(e => e.index === index);
    return el === undefined || isTerminal(el.state);
  }

  list(user: IAuthUser, query: JobListQuery): Job[] {
    const all = query.all === 'true';
    if (all && !user.admin) {
      throw new DomainError('forbidden', 'Only admins may list all jobs');
    }
    return this.table
      .list({
        ...(all ? {} : { owner: user.name }),
        ...(query.state === undefined ? {} : { state: query.state }),
        ...(query.name === undefined ? {} : { name: query.name }),
        ...(query.since === undefined ? {} : { since: query.since })
      })
      .map(r => r.job);
  }

  /**
   * cancel / hold / release, run as the job's owner on the cluster; answers the job as
   * the queue shows it after the action. A finished job is refused (409) without asking
   * SLURM.
   */
  async act(user: IAuthUser, id: string, action: JobAction): Promise<Job> {
    const rec = this.record(user, id);
    const slurmId = rec.job.slurmId;
    if (isTerminal(rec.job.state)) {
      throw new DomainError(
        'conflict',
        `Job ${id} has already ended (${rec.job.state}); there is nothing to ${action}`,
        { state: rec.job.state }
      );
    }
    if (slurmId === null) {
      throw new DomainError('conflict', `Job ${id} has no SLURM id`);
    }
    await this.deps.access.run(rec.job.cluster, rec.job.owner, async s => {
      try {
        await s.slurm[action](slurmId);
      } catch (e) {
        throw new DomainError('conflict', (e as Error).message);
      }
    });
    this.deps.store.audit({
      user: user.name,
      action: `job.${action}`,
      target: id,
      details: { owner: rec.job.owner, slurmId }
    });
    if (this.deps.refresh === undefined) {
      this.deps.poke?.(rec.job.cluster);
    } else {
      try {
        await this.deps.refresh(rec.job.cluster);
      } catch (e) {
        // The action happened; the next regular tick brings the new state.
        this.deps.logger.warn(
          { job: id, err: (e as Error).message },
          'cannot read the queue after a job action'
        );
      }
    }
    return this.table.get(id)?.job ?? rec.job;
  }

  async resubmit(user: IAuthUser, id: string): Promise<Job> {
    const rec = this.record(user, id);
    if (rec.job.owner !== user.name) {
      throw new DomainError(
        'forbidden',
        'Only the owner may resubmit a job (it runs as their account)'
      );
    }
    return this.submit(user, rec.request, { resubmittedFrom: id });
  }

  elementOf(rec: IJobRecord, element: number) {
    const el = rec.job.elements.find(e => e.index === element);
    if (el === undefined) {
      throw new DomainError(
        'not_found',
        `Job ${rec.job.id} has no element ${element}`
      );
    }
    return el;
  }

  async output(
    user: IAuthUser,
    id: string,
    element: number
  ): Promise<NotebookContent> {
    const rec = this.record(user, id);
    this.elementOf(rec, element);
    return readOutputNotebook(this.deps.access, rec, element);
  }

  logPath(
    rec: IJobRecord,
    stream: 'stdout' | 'stderr',
    element: number
  ): string {
    return `${rec.workdir}/logs/${element}.${stream === 'stdout' ? 'out' : 'err'}`;
  }
}

export type JobPlan = ReturnType<JobService['plan']>;
