/**
 * The jobs service with declared data on in-memory tiers and a fake cluster, for the unit
 * tests of element inputs, the estimate's data checks and bounded, resumable stage-outs.
 */
import { sshBatchScripts } from '../../src/adapters/ssh/scripts';
import type { IAuthUser } from '../../src/auth/decide';
import type { BridgeConfig } from '../../src/config';
import type { JobSubmit } from '../../src/contract';
import type { IClusterAccess } from '../../src/credentials/access';
import { DomainError } from '../../src/domain-error';
import { JobEvents } from '../../src/jobs/events';
import { JobService } from '../../src/jobs/service';
import { JobDataPlanner } from '../../src/lineage/job-data';
import {
  JobDataPlanTable,
  LineageTable
} from '../../src/lineage/repository/lineage';
import { LineageService } from '../../src/lineage/service';
import { StageOut } from '../../src/lineage/stage-out';
import type { IStoragePort } from '../../src/ports/storage';
import { Store } from '../../src/store';
import { demoConfig } from './demo-config';
import { FakeCluster, fakeAccess } from './job-fakes';
import { bucket, storageFixture, TIERS } from './storage-fakes';

export const user = (name: string, groups: string[]): IAuthUser => ({
  name,
  groups,
  roles: ['researcher'],
  instructorOf: [],
  admin: false
});
export const ALICE = user('alice', ['climate', 'medical', 'ml101']);

const RANGE = { default: 1, max: 4 };
export function config(): BridgeConfig {
  return demoConfig(
    {
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
        cpus: RANGE,
        memoryMB: { default: 500, max: 4000 },
        gpus: { default: 0, max: 0 }
      }))
    },
    { userMapping: { template: 'u-{user}' }, compliantPartitions: ['secure'] }
  );
}

const NB = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [{ cell_type: 'code', source: 'x = 1', metadata: {} }]
} as JobSubmit['notebook']['content'];

export const request = (extra: Partial<JobSubmit>): JobSubmit => ({
  name: 'train',
  notebook: { path: 'train.ipynb', content: NB },
  profile: 'cpu',
  ...extra
});

export const quiet = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined
};

export interface IHarnessOptions {
  /** Wraps the port on a job's working directory (the stage-out's source). */
  workdirPort?: (port: IStoragePort) => IStoragePort;
}

export function harness(options: IHarnessOptions = {}) {
  const store = new Store(':memory:');
  const fix = storageFixture(store);
  const cluster = new FakeCluster();
  const plain = fakeAccess(cluster);
  const wrap = options.workdirPort ?? (p => p);
  const access: IClusterAccess = {
    ...plain,
    run: (c, u, fn) =>
      plain.run(c, u, s =>
        fn({ ...s, storage: root => wrap(fix.fs.port(root)) })
      )
  };
  const plans = new JobDataPlanTable(store);
  const lineageTable = new LineageTable(store);
  const events = new JobEvents();
  const jobs = new JobService({
    config: config(),
    store,
    access,
    scripts: sshBatchScripts,
    events,
    logger: quiet,
    data: new JobDataPlanner(fix.service, plans)
  });
  const stageOut = (
    extra: Partial<ConstructorParameters<typeof StageOut>[0]> = {}
  ) =>
    new StageOut({
      storage: fix.service,
      access,
      plans,
      lineage: lineageTable,
      jobs: jobs.table,
      events,
      logger: quiet,
      audit: store,
      ...extra
    });
  bucket(fix, 'hpc-project').put('ml101/data/train.csv', 'a,b\n1,2\n');
  bucket(fix, 'hpc-sensitive').put('medical/patients.csv', 'id\n1\n');
  const lineage = new LineageService(lineageTable, fix.service);
  return { store, fix, cluster, jobs, stageOut, lineage, events };
}

export type Harness = ReturnType<typeof harness>;

/** The job's working directory on the fake cluster. */
export const workdirOf = (id: string): string =>
  `/home/alice/.hpc-bridge/jobs/${id}`;

/** Marks every element of the job `state` in the table; answers the record. */
export function endJob(
  h: Harness,
  id: string,
  state: 'COMPLETED' | 'FAILED' = 'COMPLETED'
) {
  const rec = h.jobs.table.get(id);
  if (rec === undefined) {
    throw new Error(`no job ${id}`);
  }
  const job = {
    ...rec.job,
    state,
    elements: rec.job.elements.map(e => ({ ...e, state }))
  };
  h.jobs.table.update(job);
  return { ...rec, job };
}

export async function refusal(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DomainError) {
      return e;
    }
    throw e;
  }
  throw new Error('did not refuse');
}
