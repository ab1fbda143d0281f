/**
 * A trigger world for unit tests: the job service on a fake cluster, the storage service
 * on in-memory tiers, the stage-out, and the trigger feature on a clock the test moves.
 */
import { sshBatchScripts } from '../../src/adapters/ssh/scripts';
import type { IAuthUser } from '../../src/auth/decide';
import type { JobState, JobSubmit, TriggerCreate } from '../../src/contract';
import { TriggerCreateSchema } from '../../src/contract';
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
import type { IEndpointRoller } from '../../src/triggers/actions/roll-endpoint';
import { buildTriggers } from '../../src/triggers/build';
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

export function triggerConfig(triggers: Record<string, number> = {}) {
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

export const JOB: JobSubmit = {
  name: 'clean',
  notebook: { path: 'clean.ipynb', content: NOTEBOOK },
  profile: 'cpu'
};

export function triggerHarness(
  options: {
    roller?: IEndpointRoller;
    groups?: Map<string, string[]>;
    /** The config's `triggers` section (e.g. `retrySeconds`). */
    triggers?: Record<string, number>;
  } = {}
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
  const config = triggerConfig(options.triggers);
  const plans = new JobDataPlanTable(store);
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
    lineage: new LineageTable(store),
    jobs: jobs.table,
    events,
    logger,
    now: () => clock.now
  });
  const posted: string[] = [];
  const { service, runner } = buildTriggers({
    config,
    store,
    jobs,
    storage: fix.service,
    roller: options.roller ?? {
      roll: async (_u, endpoint) => ({ endpoint })
    },
    webhooks: {
      allowPrivateNetworks: false,
      send: async (_target, body) => {
        posted.push(body);
        return 204;
      }
    },
    ...(options.groups === undefined
      ? {}
      : { groups: async () => options.groups ?? new Map() }),
    endpointOwner: id => (id === 'ep-alice' ? 'alice' : null),
    logger,
    now: () => clock.now,
    objectPageSize: 2
  });
  const project = bucket(fix, 'hpc-project');
  return {
    store,
    fix,
    cluster,
    jobs,
    stageOut,
    service,
    runner,
    clock,
    posted,
    project,
    /** Moves the clock on by `ms`. */
    advance: (ms: number) => {
      clock.now = new Date(clock.now.getTime() + ms);
    },
    create: (body: TriggerCreate, who: IAuthUser = ALICE) =>
      service.create(who, TriggerCreateSchema.parse(body)),
    /** Ends job `id` in `state` (every element), then runs its stage-out. */
    endJob: async (id: string, state: JobState = 'COMPLETED') => {
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
      await stageOut.onJobEnded({ ...rec, job: ended });
    }
  };
}

export type TriggerHarness = ReturnType<typeof triggerHarness>;
