/** Fakes for the endpoint control plane's unit tests: a provider, a clock, health checks. */
import { parseConfig, type BridgeConfig } from '../../src/config';
import { testStore } from './test-store';
import {
  EndpointController,
  type HealthCheck,
  type IClock
} from '../../src/endpoints/controller';
import type {
  IModelPlacer,
  IProviderReplica,
  IReplicaHandle,
  IReplicaSpec,
  IServingProvider,
  ReplicaStatus
} from '../../src/endpoints/ports';
import { EndpointTable } from '../../src/endpoints/repository/endpoints';
import { Store } from '../../src/store';

export class FakeClock implements IClock {
  constructor(public t = Date.parse('2026-01-01T00:00:00Z')) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface IFakeReplica {
  spec: IReplicaSpec;
  status: ReplicaStatus;
  stopped: boolean;
}

/** A provider whose replicas change state only when the test says so. */
export class FakeProvider implements IServingProvider {
  readonly replicas = new Map<string, IFakeReplica>();
  /** `start:<id>` / `stop:<id>`, in order. */
  readonly events: string[] = [];
  /** When set, `start` throws this. */
  failStart: Error | null = null;
  /** The status a started replica gets; default pending. */
  initial: (spec: IReplicaSpec) => ReplicaStatus = () => ({ state: 'pending' });

  constructor(readonly name = 'local') {}

  async start(spec: IReplicaSpec): Promise<IReplicaHandle> {
    if (this.failStart !== null) {
      throw this.failStart;
    }
    this.events.push(`start:${spec.replicaId}`);
    this.replicas.set(spec.replicaId, {
      spec,
      status: this.initial(spec),
      stopped: false
    });
    return {
      provider: this.name,
      replicaId: spec.replicaId,
      ref: { pid: 1000 + this.replicas.size }
    };
  }

  async status(handle: IReplicaHandle): Promise<ReplicaStatus> {
    const r = this.replicas.get(handle.replicaId);
    return r === undefined ? { state: 'gone' } : r.status;
  }

  /** What `endedReason` answers, by replica id; null for the others. */
  readonly endedReasons = new Map<string, string>();

  async endedReason(handle: IReplicaHandle): Promise<string | null> {
    return this.endedReasons.get(handle.replicaId) ?? null;
  }

  async stop(handle: IReplicaHandle): Promise<void> {
    const r = this.replicas.get(handle.replicaId);
    if (r !== undefined && !r.stopped) {
      r.stopped = true;
      r.status = { state: 'gone', reason: 'stopped' };
      this.events.push(`stop:${handle.replicaId}`);
    }
  }

  async list(): Promise<IProviderReplica[]> {
    return [...this.replicas.values()]
      .filter(r => !r.stopped)
      .map(r => ({
        handle: {
          provider: this.name,
          replicaId: r.spec.replicaId,
          ref: {}
        },
        endpointId: r.spec.endpointId,
        owner: r.spec.owner
      }));
  }

  /** The replicas not stopped, oldest first. */
  live(): IFakeReplica[] {
    return [...this.replicas.values()].filter(r => !r.stopped);
  }

  last(): IFakeReplica {
    const all = [...this.replicas.values()];
    const r = all[all.length - 1];
    if (r === undefined) {
      throw new Error('no replica started');
    }
    return r;
  }

  /** Marks a replica running at `port` (on 127.0.0.1) until `endsAt`. */
  run(r: IFakeReplica, port: number, endsAt: Date | null = null): void {
    r.status = { state: 'running', host: '127.0.0.1', port, endsAt };
  }
}

/** Health answers per port: healthy unless listed in `down`. */
export class FakeHealth {
  readonly down = new Set<number>();
  readonly calls: string[] = [];
  /** `port:key` of every check. */
  readonly keys: string[] = [];
  check: HealthCheck = async (url, apiKey) => {
    this.calls.push(url);
    const port = Number(new URL(url).port);
    this.keys.push(`${port}:${apiKey}`);
    if (apiKey.length < 16) {
      return { ok: false, detail: 'no key' };
    }
    return this.down.has(port)
      ? { ok: false, detail: 'ECONNREFUSED' }
      : { ok: true, detail: 'HTTP 200' };
  };
}

export const SERVING_CONFIG = {
  serving: {
    publicUrl: 'http://hub.example:8000',
    holdSeconds: 120,
    handoverMinutes: 5,
    idleMinutes: { default: 15, min: 1, max: 1440 },
    healthSeconds: 5,
    healthFailures: 3,
    maxRestarts: 2,
    providers: { local: { maxReplicas: 4 } }
  },
  recipes: [
    {
      name: 'llama-server',
      command: [
        '/opt/llama/bin/llama-server',
        '-m',
        '{model}',
        '--host',
        '{host}',
        '--port',
        '{port}',
        '-t',
        '{threads}'
      ],
      health: '/health'
    }
  ],
  models: [
    {
      name: 'tiny-random',
      title: 'Tiny random llama',
      recipe: 'llama-server',
      path: '/models/tiny.gguf',
      resources: { cpus: 1, memoryMB: 1000, gpus: 0, timeMinutes: 60 },
      limits: { cpus: 4, timeMinutes: 240 },
      providers: ['local']
    }
  ]
};

export function servingConfig(
  extra: Record<string, unknown> = {}
): BridgeConfig {
  return parseConfig(
    {
      basePath: '/services/hpc-bridge/',
      hub: {
        apiUrl: 'http://hub.invalid/hub/api',
        apiToken: { value: 'bridge-own-token' }
      },
      store: { path: ':memory:' },
      ...SERVING_CONFIG,
      ...extra
    },
    '/test/config.yaml',
    {}
  );
}

export interface IControllerFixture {
  config: BridgeConfig;
  store: Store;
  table: EndpointTable;
  clock: FakeClock;
  provider: FakeProvider;
  health: FakeHealth;
  controller: EndpointController;
}

export function controllerFixture(
  config: BridgeConfig = servingConfig(),
  store: Store = testStore(),
  provider: FakeProvider = new FakeProvider(),
  tickMs?: number,
  placers?: ReadonlyMap<string, IModelPlacer>
): IControllerFixture {
  const table = new EndpointTable(store);
  const clock = new FakeClock();
  const health = new FakeHealth();
  const controller = new EndpointController({
    config,
    table,
    providers: new Map([[provider.name, provider]]),
    ...(placers === undefined ? {} : { placers }),
    logger: {
      info: () => undefined,
      warn: () => undefined,
      debug: () => undefined
    },
    clock,
    health: health.check,
    drainSeconds: 30,
    tickMs
  });
  // The tests drive the leader's loop with `tick()`.
  controller.lead();
  return { config, store, table, clock, provider, health, controller };
}

export function createEndpoint(
  f: IControllerFixture,
  overrides: Partial<{
    id: string;
    owner: string;
    timeMinutes: number;
    idleMinutes: number;
  }> = {}
) {
  return f.controller.create({
    id: overrides.id ?? 'e1',
    name: `chat-${overrides.id ?? 'e1'}`,
    owner: overrides.owner ?? 'alice',
    model: 'tiny-random',
    provider: 'local',
    resources: {
      cpus: 2,
      memoryMB: 1000,
      gpus: 0,
      timeMinutes: overrides.timeMinutes ?? 60
    },
    idleMinutes: overrides.idleMinutes ?? 15,
    visibility: 'private',
    group: null
  });
}
