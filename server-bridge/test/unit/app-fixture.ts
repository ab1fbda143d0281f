/** Builds the app for route-level unit tests with in-memory fakes of the backends. */
import { Writable } from 'node:stream';
import { buildApp, type IAppDeps, type BridgeApp } from '../../src/app';
import type { FetchUser, HubAnswer } from '../../src/auth/hub-auth';
import { parseConfig } from '../../src/config';
import type { Partition } from '../../src/contract';
import { JobEvents } from '../../src/jobs/events';
import { LineageTable } from '../../src/lineage/repository/lineage';
import { LineageService } from '../../src/lineage/service';
import { JobService } from '../../src/jobs/service';
import { createLogger } from '../../src/logging';
import type { ISlurmPing, ISlurmPort } from '../../src/ports/slurm';
import { testStore } from './test-store';
import { EndpointService } from '../../src/endpoints/service';
import { controllerFixture } from './endpoints-fakes';
import { FakeCluster, fakeAccess } from './job-fakes';
import { storageFixture } from './storage-fakes';
import { renderKernelScript } from '../../src/adapters/ssh/kernel-script';
import { KernelEvents } from '../../src/kernels/events';
import { KernelService } from '../../src/kernels/service';
import { sshBatchScripts } from '../../src/adapters/ssh/scripts';
import { unavailableRoller } from '../../src/triggers/actions/roll-endpoint';
import { buildTriggers } from '../../src/triggers/build';

export const BRIDGE_SCOPE = 'access:services!service=hpc-bridge';

/** Tokens the fake hub knows, with the `/hub/api/user` answer for each. */
export const HUB_USERS: Record<string, unknown> = {
  'alice-token': {
    kind: 'user',
    name: 'alice',
    admin: false,
    groups: ['ml101'],
    scopes: [BRIDGE_SCOPE, 'access:servers!server=alice/']
  },
  'carol-token': {
    kind: 'user',
    name: 'carol',
    admin: false,
    groups: ['ml101-instructors'],
    scopes: [BRIDGE_SCOPE, 'access:servers!user=carol']
  },
  'no-bridge-scope': {
    kind: 'user',
    name: 'bob',
    groups: [],
    scopes: ['access:servers!user=bob']
  },
  'harvested-by-bob': {
    kind: 'user',
    name: 'alice',
    groups: [],
    scopes: [BRIDGE_SCOPE, 'access:servers!server=bob/']
  },
  'service-token': {
    kind: 'service',
    name: 'other',
    scopes: [BRIDGE_SCOPE, 'access:servers']
  }
};

export class FakeSlurm implements ISlurmPort {
  calls = 0;
  constructor(
    public result: Partition[] | Error,
    public pingResult: ISlurmPing = {
      ssh: { ok: true },
      slurmctld: { ok: true }
    }
  ) {}
  async partitions(): Promise<Partition[]> {
    this.calls += 1;
    if (this.result instanceof Error) {
      throw this.result;
    }
    return this.result;
  }
  async ping(): Promise<ISlurmPing> {
    return this.pingResult;
  }
  async close(): Promise<void> {}
}

export const CPU_PARTITION: Partition = {
  name: 'cpu',
  default: true,
  state: 'up',
  nodes: { total: 1, idle: 1 },
  cpus: { total: 2, idle: 2 },
  gpus: { total: 0, idle: 0 },
  maxTimeMinutes: 60
};

/** The job profile `cpu-small` on the demo cluster's `cpu` partition (one to two CPUs). */
export const CPU_SMALL_PROFILE = {
  name: 'cpu-small',
  title: 'CPU',
  cluster: 'demo',
  partition: 'cpu',
  timeMinutes: { default: 10, max: 60 },
  cpus: { default: 1, min: 1, max: 2 },
  memoryMB: { default: 500, max: 4000 },
  gpus: { default: 0, max: 0 }
};

/** A notebook with one code cell, `print(1)`. */
export const PRINT_NOTEBOOK = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [
    {
      cell_type: 'code',
      source: 'print(1)',
      metadata: {},
      outputs: [],
      execution_count: null
    }
  ]
};

export interface ITestApp {
  app: BridgeApp;
  hubCalls: string[];
  logs: () => string;
}

export async function testApp(
  overrides: Partial<IAppDeps> = {},
  hubDown = false
): Promise<ITestApp> {
  const config = parseConfig(
    {
      basePath: '/services/hpc-bridge/',
      hub: {
        apiUrl: 'http://hub.invalid/hub/api',
        apiToken: { value: 'bridge-own-token' }
      },
      store: { path: ':memory:' },
      logLevel: 'info'
    },
    '/test/config.yaml',
    {}
  );
  const hubCalls: string[] = [];
  const fetchUser: FetchUser = async token => {
    hubCalls.push(token);
    if (hubDown) {
      throw new Error('ECONNREFUSED');
    }
    const body = HUB_USERS[token];
    const answer: HubAnswer =
      body === undefined
        ? { status: 'rejected', httpStatus: 403 }
        : { status: 'ok', body };
    return answer;
  };
  let logText = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logText += chunk.toString();
      if (process.env.LOGDBG) process.stderr.write(chunk);
      cb();
    }
  });
  const store = testStore();
  const logger = createLogger('info', sink);
  const access = fakeAccess(new FakeCluster());
  const events = new JobEvents();
  const serving = controllerFixture(undefined, store);
  const storage = overrides.storage ?? storageFixture(store).service;
  const jobs = new JobService({
    config,
    store,
    access,
    scripts: sshBatchScripts,
    events,
    logger
  });
  const kernelEvents = new KernelEvents();
  const app = await buildApp({
    config,
    logger,
    store,
    jobs: { service: jobs, access, events },
    kernels: {
      service: new KernelService({
        config,
        store,
        access,
        script: renderKernelScript,
        events: kernelEvents,
        logger
      }),
      events: kernelEvents
    },
    triggers: buildTriggers({
      config,
      store,
      jobs,
      storage,
      roller: unavailableRoller,
      webhooks: config.webhooks,
      logger
    }).service,
    fetchUser,
    hub: { check: async () => 'token of service hpc-bridge' },
    clusters: [
      { name: 'demo', title: 'Demo', slurm: new FakeSlurm([CPU_PARTITION]) }
    ],
    s3: [],
    storage,
    lineage: new LineageService(
      new LineageTable(overrides.store ?? store),
      storage
    ),
    endpoints: {
      service: new EndpointService({
        config: serving.config,
        table: serving.table,
        controller: serving.controller,
        store
      })
    },
    version: '9.9.9',
    close: async () => store.close(),
    ...overrides
  });
  return { app, hubCalls, logs: () => logText };
}

export const BASE = '/services/hpc-bridge';
