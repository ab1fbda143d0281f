/**
 * A world of jobs with declared data for unit tests: the job service on a fake cluster
 * whose job folders live in the storage fixture's file system, the storage service on
 * in-memory tiers, the planner of inputs and outputs, the stage-out and the lineage
 * table, on a clock the test moves. The job-data and trigger tests build on it.
 */
import { sshBatchScripts } from '../../src/adapters/ssh/scripts';
import type { IAuthUser } from '../../src/auth/decide';
import type { JobState, JobSubmit } from '../../src/contract';
import type { IClusterAccess } from '../../src/credentials/access';
import { JobEvents } from '../../src/jobs/events';
import { JobService } from '../../src/jobs/service';
import { JobDataPlanner } from '../../src/lineage/job-data';
import {
  JobDataPlanTable,
  LineageTable
} from '../../src/lineage/repository/lineage';
import { StageOut } from '../../src/lineage/stage-out';
import { Store } from '../../src/store';
import { demoConfig } from './demo-config';
import { FakeCluster, fakeAccess } from './job-fakes';
import { storageFixture, TIERS } from './storage-fakes';

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

export function jobDataWorld(
  options: { triggers?: Record<string, number> } = {}
) {
  const store = new Store(':memory:');
  const fix = storageFixture(store);
  const cluster = new FakeCluster();
  const plain = fakeAccess(cluster);
  // A job's working directory is a folder of the fake cluster file system.
  const access: IClusterAccess = {
    ...plain,
    run: (c, u, fn) =>
      plain.run(c, u, s => fn({ ...s, storage: root => fix.fs.port(root) }))
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
  const clock = { now: new Date('2026-01-10T12:00:00Z') };
  const stageOut = new StageOut({
    storage: fix.service,
    access,
    plans,
    lineage: lineageTable,
    jobs: jobs.table,
    events,
    logger,
    now: () => clock.now
  });
  /** Records job `id` as ended in `state` (every element), as the poller would. */
  const markEnded = (id: string, state: JobState = 'COMPLETED') => {
    const rec = jobs.table.get(id);
    if (rec === undefined) {
      throw new Error(`no job ${id}`);
    }
    const ended = {
      ...rec.job,
      state,
      updatedAt: clock.now.toISOString(),
      elements: rec.job.elements.map(e => ({ ...e, state }))
    };
    jobs.table.update(ended);
    return { ...rec, job: ended };
  };
  return {
    store,
    fix,
    cluster,
    config,
    logger,
    jobs,
    lineageTable,
    stageOut,
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
