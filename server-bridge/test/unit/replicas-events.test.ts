import { sshBatchScripts } from '../../src/adapters/ssh/scripts';
import type { BridgeApp } from '../../src/app';
import type { ClusterKernel, JobState } from '../../src/contract';
import { JobEvents } from '../../src/jobs/events';
import { JobService } from '../../src/jobs/service';
import { KernelEvents } from '../../src/kernels/events';
import { EventLog } from '../../src/replicas/event-log';
import { BASE, testApp } from './app-fixture';
import { demoConfig } from './demo-config';
import { FakeCluster, fakeAccess } from './job-fakes';
import {
  allowBob,
  job,
  quiet,
  twoStores,
  type ITwoStores
} from './replica-fakes';

allowBob();

function kernel(owner: string, state: ClusterKernel['state']): ClusterKernel {
  const at = '2030-01-01T00:00:00.000Z';
  return {
    id: `k-${owner}`,
    owner,
    jupyterKernelId: 'j1',
    profile: 'cpu-small',
    cluster: 'demo',
    partition: 'cpu',
    resources: { timeMinutes: 10, cpus: 1, memoryMB: 500, gpus: 0 },
    state,
    slurmId: '7',
    node: null,
    pendingReason: null,
    queuePosition: null,
    expectedStart: null,
    walltimeEnd: null,
    endedReason: null,
    createdAt: at,
    lastActivity: at,
    updatedAt: at
  };
}

describe('events between two replicas on one database', () => {
  let stores: ITwoStores;
  let one: EventLog;
  let two: EventLog;
  beforeEach(() => {
    stores = twoStores();
    one = new EventLog(stores.a);
    two = new EventLog(stores.b);
  });
  afterEach(() => stores.close());

  it('delivers a job published on one replica to the other once, and to its own at once', () => {
    const jobsOne = new JobEvents(one);
    const jobsTwo = new JobEvents(two);
    const seenOne: [string, JobState, number | undefined][] = [];
    const seenTwo: [string, JobState, number | undefined][] = [];
    jobsOne.subscribe((j, id) => seenOne.push([j.id, j.state, id]));
    jobsTwo.subscribe((j, id) => seenTwo.push([j.id, j.state, id]));
    jobsOne.emit(job('alice', 'j1', 'RUNNING'));
    expect(seenOne).toEqual([['j1', 'RUNNING', 1]]);
    expect(seenTwo).toEqual([]);
    two.drain();
    jobsTwo.emit(job('bob', 'j2', 'PENDING'));
    two.drain();
    one.drain();
    one.drain();
    expect(seenTwo).toEqual([
      ['j1', 'RUNNING', 1],
      ['j2', 'PENDING', 2]
    ]);
    expect(seenOne).toEqual(seenTwo);
  });

  it('delivers kernel changes the same way, and replays only the owner’s', () => {
    const kernelsOne = new KernelEvents(one);
    const kernelsTwo = new KernelEvents(two);
    const seen: [string, string, number | undefined][] = [];
    kernelsTwo.subscribe((k, id) => seen.push([k.owner, k.state, id]));
    kernelsOne.emit(kernel('alice', 'pending'));
    kernelsOne.emit(kernel('bob', 'running'));
    two.drain();
    expect(seen).toEqual([
      ['alice', 'pending', 1],
      ['bob', 'running', 2]
    ]);
    expect(kernelsTwo.since(0, 'bob').map(e => [e.id, e.kernel.owner])).toEqual(
      [[2, 'bob']]
    );
  });

  it('starts tailing after the events that were there before it', () => {
    new JobEvents(one).emit(job('alice', 'old', 'COMPLETED'));
    const late = new EventLog(stores.b);
    const jobs = new JobEvents(late);
    const seen: string[] = [];
    jobs.subscribe(j => seen.push(j.id));
    new JobEvents(one).emit(job('alice', 'new', 'RUNNING'));
    late.drain();
    expect(seen).toEqual(['new']);
    expect(jobs.since(0).map(e => e.job.id)).toEqual(['old', 'new']);
  });

  it('deletes the events older than the window it is given', () => {
    let now = new Date('2030-01-01T00:00:00Z');
    const log = new EventLog(stores.a, { now: () => now });
    const jobs = new JobEvents(log);
    jobs.emit(job('alice', 'j1', 'RUNNING'));
    now = new Date('2030-01-01T01:00:00Z');
    jobs.emit(job('alice', 'j1', 'COMPLETED'));
    expect(log.prune(30 * 60 * 1000)).toBe(1);
    expect(jobs.since(0).map(e => e.job.state)).toEqual(['COMPLETED']);
  });
});

describe('the event stream of a replica fed by another', () => {
  let stores: ITwoStores;
  let app: BridgeApp;
  let publisher: JobEvents;
  let tail: EventLog;
  let port = 0;

  beforeEach(async () => {
    stores = twoStores();
    publisher = new JobEvents(new EventLog(stores.a));
    tail = new EventLog(stores.b, { pollMs: 20 });
    const events = new JobEvents(tail);
    const config = demoConfig({});
    const access = fakeAccess(new FakeCluster());
    const service = new JobService({
      config,
      store: stores.b,
      access,
      scripts: sshBatchScripts,
      events,
      logger: quiet
    });
    ({ app } = await testApp({
      store: stores.b,
      jobs: { service, access, events, pingMs: 50 },
      close: async () => undefined
    }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
    tail.start();
  });

  afterEach(async () => {
    tail.stop();
    await app.close();
    stores.close();
  });

  /** Opens a stream; `until` reads on until what came matches, `close` ends it. */
  async function open(token: string, lastEventId?: number) {
    const ac = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}${BASE}/api/v1/events`, {
      headers: {
        authorization: `token ${token}`,
        ...(lastEventId === undefined
          ? {}
          : { 'last-event-id': String(lastEventId) })
      },
      signal: ac.signal
    });
    const reader = res.body!.getReader();
    let out = '';
    const until = async (pattern: RegExp): Promise<string> => {
      while (!pattern.test(out)) {
        const { value, done } = await reader.read();
        if (done) {
          break;
        }
        out += new TextDecoder().decode(value);
      }
      return out;
    };
    // The first ping is written once the stream listens to the events.
    await until(/event: ping/);
    return { until, close: () => ac.abort() };
  }

  /** The `id`, job and state of each job event in a stream's text. */
  function jobEvents(text: string): [number, string, string][] {
    return [...text.matchAll(/id: (\d+)\nevent: job\ndata: (.*)\n/g)].map(m => {
      const { job: j } = JSON.parse(m[2]!) as {
        job: { id: string; state: string };
      };
      return [Number(m[1]), j.id, j.state];
    });
  }

  it('replays exactly the events missed since Last-Event-ID, the final state included, then live ones', async () => {
    publisher.emit(job('alice', 'j1', 'PENDING'));
    publisher.emit(job('alice', 'j1', 'RUNNING'));
    publisher.emit(job('bob', 'j2', 'RUNNING'));
    publisher.emit(job('alice', 'j1', 'COMPLETED'));
    const resumed = await open('alice-token', 1);
    expect(jobEvents(await resumed.until(/"COMPLETED"/))).toEqual([
      [2, 'j1', 'RUNNING'],
      [4, 'j1', 'COMPLETED']
    ]);
    // Then the live events, after the replayed ones; a stream without Last-Event-ID
    // gets the live ones only (the tail has handed on the rows before it opens).
    tail.drain();
    const fresh = await open('alice-token');
    publisher.emit(job('bob', 'j4', 'RUNNING'));
    publisher.emit(job('alice', 'j3', 'PENDING'));
    expect(jobEvents(await resumed.until(/"j3"/))).toEqual([
      [2, 'j1', 'RUNNING'],
      [4, 'j1', 'COMPLETED'],
      [6, 'j3', 'PENDING']
    ]);
    expect(jobEvents(await fresh.until(/"j3"/))).toEqual([
      [6, 'j3', 'PENDING']
    ]);
    resumed.close();
    fresh.close();
  }, 30_000);

  it('never gives bob alice’s events, replayed or live', async () => {
    publisher.emit(job('alice', 'j1', 'RUNNING'));
    publisher.emit(job('bob', 'j2', 'RUNNING'));
    publisher.emit(job('alice', 'j1', 'FAILED'));
    publisher.emit(job('bob', 'j2', 'COMPLETED'));
    const bob = await open('bob-token', 0);
    const alice = await open('alice-token', 0);
    publisher.emit(job('alice', 'j3', 'RUNNING'));
    publisher.emit(job('bob', 'j4', 'RUNNING'));
    expect(jobEvents(await bob.until(/"j4"/))).toEqual([
      [2, 'j2', 'RUNNING'],
      [4, 'j2', 'COMPLETED'],
      [6, 'j4', 'RUNNING']
    ]);
    expect(jobEvents(await alice.until(/"j3"/))).toEqual([
      [1, 'j1', 'RUNNING'],
      [3, 'j1', 'FAILED'],
      [5, 'j3', 'RUNNING']
    ]);
    bob.close();
    alice.close();
  }, 30_000);
});
