/**
 * A world of jobs with declared data for unit tests: the job service on a fake cluster
 * whose job folders live in the storage fixture's file system, the storage service on
 * in-memory tiers, the planner of inputs and outputs, the stage-out and the lineage
 * table, on a clock the test moves. The job-data and trigger tests build on it; the
 * harness on it (seeded tiers, lineage service, stage-outs on the real clock) serves the
 * tests of element inputs, the estimate's data checks and resumable stage-outs.
 */
import { sshBatchScripts } from '../../src/adapters/ssh/scripts';
import type { IAuthUser } from '../../src/auth/decide';
import type { JobState, JobSubmit } from '../../src/contract';
import type { IClusterAccess } from '../../src/credentials/access';
import { JobEvents } from '../../src/jobs/events';
import type { JobTable } from '../../src/jobs/repository/jobs';
import { JobService } from '../../src/jobs/service';
import { JobDataPlanner } from '../../src/lineage/job-data';
import {
  JobDataPlanTable,
  LineageTable
} from '../../src/lineage/repository/lineage';
import { LineageService } from '../../src/lineage/service';
import { StageOut, type IStageOutDeps } from '../../src/lineage/stage-out';
import type { IStoragePort } from '../../src/ports/storage';
import { testStore } from './test-store';
import { demoConfig } from './demo-config';
import { FakeCluster, fakeAccess } from './job-fakes';
import { bucket, storageFixture, TIERS } from './storage-fakes';

const user = (name: string, groups: string[]): IAuthUser => ({
  name,
  groups,
  roles: ['researcher'],
  instructorOf: [],
  admin: false
});
export const ALICE = user('alice', ['climate', 'medical', 'ml101']);
export const BOB = user('bob', ['genomics', 'ml101']);

/**
 * The demo cluster with partitions `cpu` and `secure` (the compliant one), the storage
 * fixture's tiers, accounts `u-{user}`; `triggers` is the config's section of that name.
 */
export function jobDataConfig(triggers: Record<string, number> = {}) {
  return demoConfig(
    {
      triggers,
      s3: [
        {
          name: 'demo',
          endpoint: 'http://s3.invalid',
          accessKeyId: { value: 'a' },
          secretAccessKey: { value: 's' }
        }
      ],
      storage: { tiers: TIERS },
      profiles: ['cpu', 'secure'].map(partition => ({
        name: partition,
        title: partition,
        cluster: 'demo',
        partition,
        timeMinutes: { default: 10, max: 60 },
        cpus: { default: 1, max: 4 },
        memoryMB: { default: 500, max: 4000 },
        gpus: { default: 0, max: 0 }
      }))
    },
    { userMapping: { template: 'u-{user}' }, compliantPartitions: ['secure'] }
  );
}

export const NOTEBOOK = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [{ cell_type: 'code', source: 'x = 1', metadata: {} }]
} as JobSubmit['notebook']['content'];

/** A submit of `train.ipynb` (NOTEBOOK) on profile `cpu`, with `extra`. */
export const request = (extra: Partial<JobSubmit>): JobSubmit => ({
  name: 'train',
  notebook: { path: 'train.ipynb', content: NOTEBOOK },
  profile: 'cpu',
  ...extra
});

/** The refusal `p` ends in; fails when it resolves or throws something else. */
export { refusal } from './refusal';

/**
 * Records job `id` as ended in `state` (every element), as the poller would, with
 * `updatedAt` when given; answers the record.
 */
function markJobEnded(
  table: JobTable,
  id: string,
  state: JobState,
  updatedAt?: string
) {
  const rec = table.get(id);
  if (rec === undefined) {
    throw new Error(`no job ${id}`);
  }
  const job = {
    ...rec.job,
    state,
    ...(updatedAt === undefined ? {} : { updatedAt }),
    elements: rec.job.elements.map(e => ({ ...e, state }))
  };
  table.update(job);
  return { ...rec, job };
}

export interface IJobDataWorldOptions {
  /** The config's `triggers` section. */
  triggers?: Record<string, number>;
  /** Wraps the port on a job's working directory (the stage-out's source). */
  workdirPort?: (port: IStoragePort) => IStoragePort;
}

export function jobDataWorld(options: IJobDataWorldOptions = {}) {
  const store = testStore();
  const fix = storageFixture(store);
  const cluster = new FakeCluster();
  const plain = fakeAccess(cluster);
  const wrap = options.workdirPort ?? (p => p);
  // A job's working directory is a folder of the fake cluster file system.
  const access: IClusterAccess = {
    ...plain,
    run: (c, u, fn) =>
      plain.run(c, u, s =>
        fn({ ...s, storage: root => wrap(fix.fs.port(root)) })
      )
  };
  const logger = {
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined
  };
  const config = jobDataConfig(options.triggers);
  const plans = new JobDataPlanTable(store);
  const lineageTable = new LineageTable(store);
  const events = new JobEvents();
  const jobs = new JobService({
    config,
    store,
    access,
    scripts: sshBatchScripts,
    events,
    logger,
    data: new JobDataPlanner(fix.service, plans)
  });
  /** A stage-out of this world's jobs; `extra` adds or replaces its dependencies. */
  const stageOutWith = (extra: Partial<IStageOutDeps> = {}) =>
    new StageOut({
      storage: fix.service,
      access,
      plans,
      lineage: lineageTable,
      jobs: jobs.table,
      events,
      logger,
      ...extra
    });
  const clock = { now: new Date('2026-01-10T12:00:00Z') };
  const stageOut = stageOutWith({ now: () => clock.now });
  /** Records job `id` as ended in `state` (every element), as the poller would. */
  const markEnded = (id: string, state: JobState = 'COMPLETED') =>
    markJobEnded(jobs.table, id, state, clock.now.toISOString());
  return {
    store,
    fix,
    cluster,
    config,
    logger,
    jobs,
    events,
    lineageTable,
    stageOut,
    stageOutWith,
    clock,
    markEnded,
    /** Moves the clock on by `ms`. */
    advance: (ms: number) => {
      clock.now = new Date(clock.now.getTime() + ms);
    },
    /** Ends job `id` in `state` (every element), then runs its stage-out. */
    endJob: async (id: string, state: JobState = 'COMPLETED') => {
      await stageOut.onJobEnded(markEnded(id, state));
    }
  };
}

export type JobDataWorld = ReturnType<typeof jobDataWorld>;

/** Puts a CSV on the project tier (ml101) and one on the sensitive tier (medical). */
export function seedTiers(world: Pick<JobDataWorld, 'fix'>): void {
  bucket(world.fix, 'hpc-project').put('ml101/data/train.csv', 'a,b\n1,2\n');
  bucket(world.fix, 'hpc-sensitive').put('medical/patients.csv', 'id\n1\n');
}

/**
 * The job-data world with seeded tiers, the lineage service, and stage-outs made on
 * demand that run on the real clock and audit into the store.
 */
export function jobDataHarness(
  options: Pick<IJobDataWorldOptions, 'workdirPort'> = {}
) {
  const world = jobDataWorld({ workdirPort: options.workdirPort });
  seedTiers(world);
  const { store, fix, cluster, jobs, events } = world;
  return {
    store,
    fix,
    cluster,
    jobs,
    events,
    stageOut: (extra: Partial<IStageOutDeps> = {}) =>
      world.stageOutWith({ audit: store, ...extra }),
    lineage: new LineageService(world.lineageTable, fix.service)
  };
}

export type JobDataHarness = ReturnType<typeof jobDataHarness>;

/** The job's working directory on the fake cluster. */
export const workdirOf = (id: string): string =>
  `/home/alice/.hpc-bridge/jobs/${id}`;

/** Records every element of job `id` as ended in `state`; answers the record. */
export const endJob = (
  h: JobDataHarness,
  id: string,
  state: JobState = 'COMPLETED'
) => markJobEnded(h.jobs.table, id, state);
