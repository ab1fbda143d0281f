/** Fakes for cluster kernels: the job fakes' cluster plus the user's kernel port. */
import { PassThrough, type Duplex } from 'node:stream';
import { renderKernelScript } from '../../src/adapters/ssh/kernel-script';
import type { BridgeConfig } from '../../src/config';
import { CourseJobGate } from '../../src/courses/job-gate';
import type { IClusterAccess } from '../../src/credentials/access';
import { KernelEvents } from '../../src/kernels/events';
import { KernelPoller } from '../../src/kernels/poller';
import { KernelService } from '../../src/kernels/service';
import type { IUserClusterPort } from '../../src/ports/slurm';
import { testStore } from './test-store';
import { demoConfig } from './demo-config';
import { FakeCluster, fakeAccess } from './job-fakes';

export class FakeKernelCluster extends FakeCluster {
  scripts: { script: string; workdir: string; user: string }[] = [];
  removed: string[] = [];
  /** Sockets opened: `user:path`; each is an echo stream. */
  sockets: string[] = [];
  /** The node each socket was opened on (null: the login node). */
  socketNodes: (string | null)[] = [];
  /** `user:node` for each node opened ahead of a kernel's first channel. */
  preparedNodes: string[] = [];
  streams: Duplex[] = [];
  /** Nothing listens on the kernel's sockets (it stopped). */
  refuseSockets = false;

  withKernels(user: string): IUserClusterPort {
    return {
      ...this.port(user),
      kernels: {
        submitScript: async (script, workdir) => {
          this.scripts.push({ script, workdir, user });
          return String(this.nextId++);
        },
        removeDir: async path => {
          this.removed.push(`${user}:${path}`);
        },
        prepareNode: async node => {
          this.preparedNodes.push(`${user}:${node}`);
        },
        openSocket: async (path, node) => {
          this.socketNodes.push(node);
          if (this.refuseSockets) {
            throw Object.assign(new Error(`cannot open ${path}: open failed`), {
              stage: 'exec'
            });
          }
          this.sockets.push(`${user}:${path}`);
          const echo = new PassThrough();
          this.streams.push(echo);
          return echo;
        }
      }
    };
  }
}

export function kernelAccess(cluster: FakeKernelCluster): IClusterAccess {
  return {
    ...fakeAccess(cluster),
    session: (_c, user) => cluster.withKernels(user),
    run: async (_c, user, fn) => fn(cluster.withKernels(user))
  };
}

export function kernelConfig(
  kernels: Record<string, unknown> = {},
  extra: Record<string, unknown> = {}
): BridgeConfig {
  return demoConfig(
    {
      ...extra,
      profiles: [
        {
          name: 'cpu-small',
          title: 'Small CPU',
          cluster: 'demo',
          partition: 'cpu',
          timeMinutes: { default: 60, max: 240 },
          cpus: { default: 1, min: 1, max: 4 },
          memoryMB: { default: 1000, max: 8000 },
          gpus: { default: 0, max: 0 }
        },
        {
          name: 'batch-only',
          title: 'Batch only',
          cluster: 'demo',
          partition: 'cpu',
          timeMinutes: { default: 60, max: 240 },
          cpus: { default: 1, max: 4 },
          memoryMB: { default: 1000, max: 8000 },
          gpus: { default: 0, max: 0 }
        }
      ],
      kernels: { profiles: ['cpu-small'], ...kernels }
    },
    { compliantPartitions: ['gpu'] }
  );
}

export function kernelFixture(config: BridgeConfig = kernelConfig()) {
  const cluster = new FakeKernelCluster();
  const store = testStore();
  const events = new KernelEvents();
  const emitted: string[] = [];
  events.subscribe(k => emitted.push(`${k.id}:${k.state}`));
  const clock = { now: Date.parse('2026-12-07T10:00:00Z') };
  const access = kernelAccess(cluster);
  const logger = { info: () => undefined, warn: () => undefined };
  const courses = new CourseJobGate(store, config.profiles, () => clock.now);
  const service = new KernelService({
    config,
    store,
    access,
    script: renderKernelScript,
    courses,
    events,
    logger,
    now: () => clock.now
  });
  const poller = new KernelPoller({
    cluster: 'demo',
    queue: cluster.queuePort(),
    service,
    table: service.table,
    access,
    events,
    logger: { ...logger, debug: () => undefined },
    intervalMs: 10_000
  });
  return {
    cluster,
    store,
    events,
    emitted,
    clock,
    service,
    poller,
    config,
    courses
  };
}

export const ALICE = {
  name: 'alice',
  groups: ['ml101'],
  roles: ['researcher' as const],
  instructorOf: [],
  admin: false
};
export const BOB = { ...ALICE, name: 'bob' };

export const START = {
  profile: 'cpu-small',
  jupyterKernelId: '0f3c2a9e-1111-4222-8333-944455556666',
  connection: {
    key: 'hmac-secret-7f2e9a',
    signatureScheme: 'hmac-sha256' as const
  }
};
