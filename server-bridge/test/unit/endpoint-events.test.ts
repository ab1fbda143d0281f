/**
 * Endpoint changes on the owners' event streams across replicas, and the stream's
 * `x-events-resumed` answer to a `Last-Event-ID`.
 */
import { sshBatchScripts } from '../../src/adapters/ssh/scripts';
import type { BridgeApp } from '../../src/app';
import type { Endpoint, EndpointEvent } from '../../src/contract';
import { EndpointController } from '../../src/endpoints/controller';
import { EndpointEvents } from '../../src/endpoints/events';
import { EndpointTable } from '../../src/endpoints/repository/endpoints';
import { EndpointService } from '../../src/endpoints/service';
import { JobEvents } from '../../src/jobs/events';
import { JobService } from '../../src/jobs/service';
import { EventLog } from '../../src/replicas/event-log';
import type { Store } from '../../src/store';
import { BASE, testApp } from './app-fixture';
import { demoConfig } from './demo-config';
import {
  createEndpoint,
  FakeClock,
  FakeHealth,
  FakeProvider,
  type IControllerFixture,
  servingConfig
} from './endpoints-fakes';
import { FakeCluster, fakeAccess } from './job-fakes';
import {
  allowBob,
  job,
  quiet,
  twoStores,
  type ITwoStores
} from './replica-fakes';

allowBob();

/** A replica's controller whose changes go to `events`, as `createEndpoints` wires them. */
function controllerOn(
  store: Store,
  events: EndpointEvents
): IControllerFixture {
  const config = servingConfig();
  const table = new EndpointTable(store);
  const provider = new FakeProvider();
  const clock = new FakeClock();
  const health = new FakeHealth();
  const controller = new EndpointController({
    config,
    table,
    providers: new Map([[provider.name, provider]]),
    logger: quiet,
    clock,
    health: health.check,
    changed: (ep, deleted) => events.emit(service.toEndpoint(ep), deleted)
  });
  const service = new EndpointService({ config, table, controller, store });
  return { config, store, table, clock, provider, health, controller };
}

function endpoint(owner: string, state: Endpoint['state']): Endpoint {
  const at = '2030-01-01T00:00:00.000Z';
  return {
    id: `e-${owner}`,
    name: 'chat',
    owner,
    model: 'tiny-random',
    provider: 'local',
    resources: { cpus: 1, memoryMB: 1000, gpus: 0, timeMinutes: 60 },
    idleMinutes: 15,
    visibility: 'private',
    group: null,
    state,
    reason: null,
    restarts: 0,
    url: 'http://hub.example:8000/services/hpc-bridge/v1',
    replicas: [],
    createdAt: at,
    updatedAt: at,
    lastRequestAt: null
  };
}

describe('endpoint events between two replicas', () => {
  let stores: ITwoStores;
  beforeEach(() => {
    stores = twoStores();
  });
  afterEach(() => stores.close());

  it('gives the other replica each state the controller sets, and the deletion, once', async () => {
    const one = new EventLog(stores.a);
    const two = new EventLog(stores.b);
    const f = controllerOn(stores.a, new EndpointEvents(one));
    f.controller.lead();
    const seen: [string, boolean, number | undefined][] = [];
    new EndpointEvents(two).subscribe((e, id) =>
      seen.push([e.endpoint.state, e.deleted === true, id])
    );
    createEndpoint(f);
    await f.controller.tick();
    f.provider.run(f.provider.last(), 9001);
    await f.controller.tick();
    // A request changes the record, not its state: no event.
    f.controller.touched('e1');
    f.clock.advance(1000);
    await f.controller.tick();
    await f.controller.stopEndpoint('e1');
    await f.controller.deleteEndpoint('e1');
    two.drain();
    two.drain();
    expect(seen).toEqual([
      ['pending', false, 1],
      ['starting', false, 2],
      ['ready', false, 3],
      ['stopping', false, 4],
      ['stopped', false, 5],
      ['stopped', true, 6]
    ]);
  });

  it('replays only the owner’s endpoint changes', () => {
    const events = new EndpointEvents(new EventLog(stores.a));
    events.emit(endpoint('alice', 'pending'));
    events.emit(endpoint('bob', 'ready'));
    events.emit(endpoint('alice', 'ready'));
    const replayed = new EndpointEvents(new EventLog(stores.b))
      .since(1, 'alice')
      .map(e => [e.id, e.event.endpoint.owner, e.event.endpoint.state]);
    expect(replayed).toEqual([[3, 'alice', 'ready']]);
  });
});

describe('the event stream resumed on another replica', () => {
  let stores: ITwoStores;
  let app: BridgeApp;
  let jobs: JobEvents;
  let endpoints: EndpointEvents;
  let log: EventLog;
  let now: Date;
  let port = 0;

  beforeEach(async () => {
    stores = twoStores();
    now = new Date('2030-01-01T00:00:00Z');
    // The first replica publishes; the second one answers the streams.
    log = new EventLog(stores.a, { now: () => now });
    jobs = new JobEvents(log);
    endpoints = new EndpointEvents(log);
    const tail = new EventLog(stores.b);
    const events = new JobEvents(tail);
    const access = fakeAccess(new FakeCluster());
    const service = new JobService({
      config: demoConfig({}),
      store: stores.b,
      access,
      scripts: sshBatchScripts,
      events,
      logger: quiet
    });
    const table = new EndpointTable(stores.b);
    const controller = new EndpointController({
      config: servingConfig(),
      table,
      providers: new Map(),
      logger: quiet
    });
    ({ app } = await testApp({
      store: stores.b,
      jobs: { service, access, events, pingMs: 50 },
      endpoints: {
        service: new EndpointService({
          config: servingConfig(),
          table,
          controller,
          store: stores.b
        }),
        events: new EndpointEvents(tail)
      },
      close: async () => undefined
    }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
  });

  afterEach(async () => {
    await app.close();
    stores.close();
  });

  /** Opens a stream with `Last-Event-ID`; reads until `pattern`, answers what came. */
  async function resume(token: string, lastEventId: string, pattern: RegExp) {
    const ac = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}${BASE}/api/v1/events`, {
      headers: {
        authorization: `token ${token}`,
        'last-event-id': lastEventId
      },
      signal: ac.signal
    });
    const reader = res.body!.getReader();
    let text = '';
    while (!pattern.test(text)) {
      const { value, done } = await reader.read();
      if (done) {
        break;
      }
      text += new TextDecoder().decode(value);
    }
    ac.abort();
    return { resumed: res.headers.get('x-events-resumed'), text };
  }

  function endpointEvents(text: string): [number, string, string][] {
    return [...text.matchAll(/id: (\d+)\nevent: endpoint\ndata: (.*)\n/g)].map(
      m => {
        const event = JSON.parse(m[2]!) as EndpointEvent;
        return [Number(m[1]), event.endpoint.owner, event.endpoint.state];
      }
    );
  }

  it('replays the owner’s missed endpoint changes among the jobs’ and says it is complete', async () => {
    jobs.emit(job('alice', 'j1', 'RUNNING'));
    endpoints.emit(endpoint('alice', 'pending'));
    endpoints.emit(endpoint('bob', 'starting'));
    endpoints.emit(endpoint('alice', 'ready'));
    jobs.emit(job('alice', 'j1', 'COMPLETED'));
    const { resumed, text } = await resume('alice-token', '1', /COMPLETED/);
    expect(resumed).toBe('true');
    expect(endpointEvents(text)).toEqual([
      [2, 'alice', 'pending'],
      [4, 'alice', 'ready']
    ]);
    expect(text.indexOf('"ready"')).toBeLessThan(text.indexOf('COMPLETED'));
  }, 30_000);

  it('does not say so when events after the id were deleted, or the id is not this database’s', async () => {
    jobs.emit(job('alice', 'j1', 'RUNNING'));
    jobs.emit(job('alice', 'j1', 'COMPLETING'));
    now = new Date('2030-01-01T02:00:00Z');
    jobs.emit(job('alice', 'j1', 'COMPLETED'));
    log.prune(60 * 60 * 1000);
    const pruned = await resume('alice-token', '1', /COMPLETED/);
    expect(pruned.resumed).toBeNull();
    expect(pruned.text).not.toContain('COMPLETING');
    const kept = await resume('alice-token', '2', /COMPLETED/);
    expect(kept.resumed).toBe('true');
    const foreign = await resume('alice-token', '99', /event: ping/);
    expect(foreign.resumed).toBeNull();
    const malformed = await resume('alice-token', 'x', /event: ping/);
    expect(malformed.resumed).toBeNull();
  }, 30_000);
});
