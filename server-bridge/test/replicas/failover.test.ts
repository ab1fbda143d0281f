/**
 * The production shape (`./stack/up --with-postgres --replicas 2`): two bridges behind
 * HAProxy on one PostgreSQL store. The leader is killed (kill -9) while jobs run, event
 * streams listen on both replicas and gateway requests go to both: the follower takes
 * over, every job keeps its tracking, a stream that lost its replica resumes on the other
 * with Last-Event-ID and gets every final state, and a key's budget holds for requests
 * split over both replicas.
 */
import { type JobState, Routes } from '../../src/contract';
import {
  completionsAtOnce,
  createEndpoint,
  newEndpointKey,
  tokensUsed,
  waitReady
} from '../integration/endpoint-calls';
import { SseFrames } from '../integration/sse-frames';
import { createUserToken, send, settled } from '../integration/stack';
import {
  ctl,
  ended,
  eventually,
  sleeper,
  stackOk,
  submitOk,
  waitForJob
} from '../faults/fault';
import { leaderSeenBy, replicaOf, stackReplicas } from './stack-replicas';

const RUN = Date.now().toString(36);
const PREFIX = '/services/hpc-bridge';
let alice = '';
let admin = '';

/** An event stream of alice's on one replica: the job states it has seen, by job id. */
class Stream {
  readonly states = new Map<string, JobState[]>();
  lastId = '';
  resumed = false;
  private readonly ac = new AbortController();
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly port: number,
    private readonly since?: string
  ) {}

  async open(): Promise<void> {
    const res = await fetch(
      `http://127.0.0.1:${this.port}${PREFIX}${Routes.events}`,
      {
        headers: {
          Authorization: `token ${alice}`,
          ...(this.since === undefined ? {} : { 'Last-Event-ID': this.since })
        },
        signal: this.ac.signal
      }
    );
    expect(res.status).toBe(200);
    this.resumed = res.headers.get('x-events-resumed') === 'true';
    this.done = this.read(res.body!.getReader());
  }

  private async read(reader: ReadableStreamDefaultReader<Uint8Array>) {
    const decoder = new TextDecoder();
    const frames = new SseFrames();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          return;
        }
        for (const frame of frames.feed(
          decoder.decode(value, { stream: true })
        )) {
          if (frame.id !== undefined) {
            this.lastId = frame.id;
          }
          if (frame.event === 'job') {
            const { job } = JSON.parse(frame.data) as {
              job: { id: string; state: JobState };
            };
            this.states.set(job.id, [
              ...(this.states.get(job.id) ?? []),
              job.state
            ]);
          }
        }
      }
    } catch {
      // aborted, or the replica died: `ended` tells
    }
  }

  /** Resolves once the stream has ended (its replica died) or was closed. */
  ended(): Promise<void> {
    return this.done;
  }

  close(): void {
    this.ac.abort();
  }
}

beforeAll(async () => {
  alice = await createUserToken('alice');
  admin = await createUserToken('admin');
  expect(stackReplicas().length).toBeGreaterThanOrEqual(2);
});

afterAll(async () => {
  for (const r of stackReplicas()) {
    await ctl('start', r.name);
  }
  await stackOk();
});

describe('two bridge replicas on one store', () => {
  it('a follower takes over from a killed leader: jobs keep their tracking, streams resume with every final state', async () => {
    const all = stackReplicas();
    const leaderId = await leaderSeenBy(all[0].port, admin);
    const leader = replicaOf(all, leaderId);
    const follower = all.find(r => r !== leader);
    expect(leader).toBeDefined();
    expect(follower).toBeDefined();

    const onLeader = new Stream(leader!.port);
    const onFollower = new Stream(follower!.port);
    await onLeader.open();
    await onFollower.open();

    // Through the hub's proxy: HAProxy spreads the submits over both replicas.
    // Two jobs (the node's two CPUs) that end while the leader is dead or just replaced.
    const jobs = await Promise.all(
      [0, 1].map(i => submitOk(alice, sleeper(`replicas-${RUN}-${i}`, 15)))
    );
    await Promise.all(
      jobs.map(j => waitForJob(alice, j.id, job => job.state === 'RUNNING'))
    );

    await ctl('kill9', leader!.name);
    await onLeader.ended();
    const newLeader = await eventually(
      'the follower leads',
      async () => {
        const seen = await leaderSeenBy(follower!.port, admin);
        return seen?.endsWith(`:${follower!.pid}`) === true ? seen : undefined;
      },
      60_000
    );
    expect(newLeader).not.toBe(leaderId);

    // Every job is still tracked to its end by the new leader's poller.
    for (const j of jobs) {
      const done = await waitForJob(alice, j.id, ended, 120_000);
      expect(done.state).toBe('COMPLETED');
    }

    // The stream whose replica died resumes on the other one from its last id.
    const resumed = new Stream(follower!.port, onLeader.lastId);
    await resumed.open();
    expect(resumed.resumed).toBe(true);
    // What the dead replica's stream had, then what its resumption brings.
    const seenAcross = (id: string): JobState[] => [
      ...(onLeader.states.get(id) ?? []),
      ...(resumed.states.get(id) ?? [])
    ];
    for (const states of [
      seenAcross,
      (id: string) => onFollower.states.get(id) ?? []
    ]) {
      await eventually(
        'every final state on the stream',
        async () =>
          jobs.every(j => states(j.id).includes('COMPLETED'))
            ? true
            : undefined,
        30_000
      );
    }
    // No final state twice: what the dead replica delivered is not replayed again.
    for (const j of jobs) {
      const before = onLeader.states.get(j.id) ?? [];
      const after = resumed.states.get(j.id) ?? [];
      expect([...before, ...after].filter(s => s === 'COMPLETED')).toHaveLength(
        1
      );
    }
    resumed.close();
    onFollower.close();

    await ctl('start', leader!.name);
  }, 400_000);

  it("keeps a key's budget for twenty concurrent requests split over both replicas", async () => {
    const endpoint = await createEndpoint(alice, {
      name: `replicas-${RUN}`,
      model: 'tiny-random',
      provider: 'local',
      resources: { gpus: 0 },
      visibility: 'private'
    });
    try {
      await waitReady(endpoint.id, alice);
      const budget = 250;
      const key = await newEndpointKey(endpoint.id, alice, {
        name: 'split',
        tokenBudget: budget
      });
      const ports = stackReplicas().map(r => r.port);
      const { ok, refused } = await completionsAtOnce(
        20,
        key.key,
        {
          model: 'tiny-random',
          messages: [{ role: 'user', content: 'Say something.' }],
          max_tokens: 8
        },
        i =>
          `http://127.0.0.1:${ports[i % ports.length]}${PREFIX}/v1/chat/completions`
      );
      expect(ok.length + refused.length).toBe(20);
      expect(ok.length).toBeGreaterThan(0);
      expect(refused.length).toBeGreaterThan(0);
      const spent = ok.reduce(
        (sum, r) =>
          sum +
          (r.body as { usage: { total_tokens: number } }).usage.total_tokens,
        0
      );
      expect(spent).toBeLessThanOrEqual(budget);
      // Each request is settled by the replica that served it, just after its answer.
      const usedOf = (): Promise<number> =>
        tokensUsed(endpoint.id, key.id, alice);
      const used = await settled(usedOf, u => u >= spent);
      expect(used).toBeGreaterThanOrEqual(spent);
      expect(used).toBeLessThanOrEqual(budget);
    } finally {
      await send(alice, 'DELETE', Routes.endpoint(endpoint.id));
    }
  }, 400_000);
});
