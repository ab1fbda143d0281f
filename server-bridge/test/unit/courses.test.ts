/**
 * Course rules of CourseService: a key per student bound to the course endpoint, a budget
 * per student that survives key rotation, and a changed budget applied to held keys.
 */
import { CourseService } from '../../src/courses/service';
import { testStore } from './test-store';
import { CourseTable } from '../../src/courses/repository/courses';
import { EndpointKeys } from '../../src/endpoints/keys';
import { EndpointService } from '../../src/endpoints/service';
import { EndpointUsage } from '../../src/endpoints/usage';
import { JobTable } from '../../src/jobs/repository/jobs';
import { Store } from '../../src/store';
import { jobOf } from './admin-helpers';
import { authUser } from './assistant-fakes';
import { controllerFixture } from './endpoints-fakes';

const carol = authUser('carol', ['ml101-instructors']);
const alice = authUser('alice', ['ml101']);
const bob = authUser('bob', ['ml101']);

function setup() {
  const store = testStore();
  const serving = controllerFixture(undefined, store);
  const endpoints = new EndpointService({
    config: serving.config,
    table: serving.table,
    controller: serving.controller,
    store
  });
  const keys = new EndpointKeys(store);
  const usage = new EndpointUsage(store);
  const courses = new CourseService({
    store,
    endpoints,
    keys: { keys, usage },
    groups: async () =>
      new Map([
        ['ml101', ['alice', 'bob']],
        ['ml101-instructors', ['carol']]
      ])
  });
  const ep = endpoints.create(carol, {
    name: 'course',
    model: 'tiny-random',
    provider: 'local',
    visibility: 'course',
    group: 'ml101'
  });
  const spend = (keyId: string, tokens: number) =>
    usage.record({
      keyId,
      endpointId: ep.id,
      promptTokens: tokens,
      completionTokens: 0,
      latencyMs: 1,
      error: false
    });
  return { store, endpoints, keys, usage, courses, ep, spend, serving };
}

/** A job of `owner` in the store; `course` records it as submitted with that course's profile. */
function storeJob(
  store: Store,
  id: string,
  owner: string,
  profile: string,
  submittedAt: string,
  course?: string
): void {
  const job = jobOf([], 1, 0, { id, owner, profile, submittedAt });
  new JobTable(store).insert({
    job,
    workdir: `/home/${owner}/${id}`,
    clusterUser: owner,
    webhookUrl: null,
    request: {
      name: job.name,
      notebook: {
        path: 'a.ipynb',
        content: { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] }
      },
      profile
    }
  });
  if (course !== undefined) {
    new CourseTable(store).addJob(id, course, owner, submittedAt);
  }
}

describe('course mode', () => {
  it("shares only the instructor's own endpoint", async () => {
    const { courses, endpoints } = setup();
    const bobs = endpoints.create(bob, {
      name: 'bobs',
      model: 'tiny-random',
      provider: 'local'
    });
    await expect(
      courses.update(carol, 'ml101', {
        endpoint: { endpointId: bobs.id, tokenBudget: 10 }
      })
    ).rejects.toThrow('You own no endpoint');
  });

  it('gives each student their own key, and a rotated key only what is left', async () => {
    const { courses, keys, ep, spend } = setup();
    await courses.update(carol, 'ml101', {
      endpoint: { endpointId: ep.id, tokenBudget: 100 }
    });
    const a = courses.createKey(alice, 'ml101');
    const b = courses.createKey(bob, 'ml101');
    expect(a.key).not.toBe(b.key);
    const aKey = keys.resolve(a.key);
    expect(aKey).toMatchObject({ endpointId: ep.id, owner: 'alice' });
    spend(aKey?.keyId ?? '', 70);

    const rotated = courses.createKey(alice, 'ml101');
    expect(rotated.tokensLeft).toBe(30);
    expect(keys.resolve(a.key)).toBeNull();
    expect(keys.resolve(rotated.key)?.limits.tokenBudget).toBe(30);

    const usage = courses.usage('ml101');
    expect(usage.students).toEqual([
      expect.objectContaining({
        student: 'alice',
        tokensUsed: 70,
        budgetLeft: 30
      }),
      expect.objectContaining({
        student: 'bob',
        tokensUsed: 0,
        budgetLeft: 100
      })
    ]);
  });

  it('caps a student across key rotations while requests are in flight', async () => {
    const { courses, keys, usage, ep } = setup();
    await courses.update(carol, 'ml101', {
      endpoint: { endpointId: ep.id, tokenBudget: 100 }
    });
    const first = keys.resolve(courses.createKey(alice, 'ml101').key);
    if (first === null) {
      throw new Error('no key');
    }
    // A request in flight holds 60 of the 100; the course key refuses one that does not fit.
    const held = usage.admit(first, 60);
    expect(held.ok).toBe(true);
    expect(usage.admit(first, 41)).toMatchObject({
      ok: false,
      reason: 'budget'
    });
    // A new key gets only what neither used nor held tokens leave.
    const rotated = courses.createKey(alice, 'ml101');
    expect(rotated.tokensLeft).toBe(40);
    usage.record(
      {
        keyId: first.keyId,
        endpointId: ep.id,
        promptTokens: 30,
        completionTokens: 30,
        latencyMs: 1,
        error: false
      },
      held.ok ? held.reservation : undefined
    );
    const second = keys.resolve(rotated.key);
    expect(second?.limits.tokenBudget).toBe(40);
    expect(second === null ? null : usage.admit(second, 41)).toMatchObject({
      ok: false,
      reason: 'budget'
    });
    expect(courses.usage('ml101').students).toEqual([
      expect.objectContaining({
        student: 'alice',
        tokensUsed: 60,
        budgetLeft: 40
      })
    ]);
  });

  it('applies a new budget to held keys and revokes them when the endpoint goes', async () => {
    const { courses, keys, ep, spend } = setup();
    await courses.update(carol, 'ml101', {
      endpoint: { endpointId: ep.id, tokenBudget: 100 }
    });
    const first = courses.createKey(alice, 'ml101');
    spend(keys.resolve(first.key)?.keyId ?? '', 40);
    const second = courses.createKey(alice, 'ml101');
    await courses.update(carol, 'ml101', {
      endpoint: { endpointId: ep.id, tokenBudget: 50, requestsPerMinute: 5 }
    });
    expect(keys.resolve(second.key)?.limits).toEqual({
      tokenBudget: 10,
      requestsPerMinute: 5
    });
    await courses.update(carol, 'ml101', { endpoint: null });
    expect(keys.resolve(second.key)).toBeNull();
    expect(() => courses.createKey(alice, 'ml101')).toThrow(
      'shares no endpoint'
    );
  });

  it('lists taught courses and taken courses, saying which are set up', async () => {
    const { courses, ep } = setup();
    // A group with an instructors' group is a course before its instructor saves it.
    expect((await courses.list(alice)).courses).toEqual([
      { name: 'ml101', title: 'ml101', role: 'student', configured: false }
    ]);
    expect((await courses.list(carol)).courses).toEqual([
      { name: 'ml101', title: 'ml101', role: 'instructor', configured: false }
    ]);
    await courses.update(carol, 'ml101', {
      title: 'ML',
      endpoint: { endpointId: ep.id, tokenBudget: 1 }
    });
    expect((await courses.list(alice)).courses).toEqual([
      { name: 'ml101', title: 'ML', role: 'student', configured: true }
    ]);
    expect((await courses.list(carol)).courses).toEqual([
      { name: 'ml101', title: 'ML', role: 'instructor', configured: true }
    ]);
  });

  it('lists no course for a group without instructors, nor while the hub cannot be asked', async () => {
    const { courses } = setup();
    const dave = authUser('dave', ['staff', 'ml101']);
    expect((await courses.list(dave)).courses.map(c => c.name)).toEqual([
      'ml101'
    ]);
    const store = testStore();
    const blind = new CourseService({
      store,
      groups: async () => {
        throw new Error('hub down');
      }
    });
    expect((await blind.list(alice)).courses).toEqual([]);
    new CourseTable(store).put({
      name: 'ml101',
      title: 'ML',
      endpoint: null,
      dataset: null,
      jobProfile: null,
      assistant: { completion: false, chat: false },
      updatedBy: 'carol',
      updatedAt: '2026-03-01T10:00:00Z'
    });
    expect((await blind.list(alice)).courses).toEqual([
      { name: 'ml101', title: 'ML', role: 'student', configured: true }
    ]);
  });

  it("lists only the members' course jobs to the instructor, not their other jobs", async () => {
    const { store, courses } = setup();
    storeJob(store, 'research', 'alice', 'cpu-small', '2026-03-01T10:00:00Z');
    storeJob(
      store,
      'hw1',
      'alice',
      'course:ml101',
      '2026-03-01T11:00:00Z',
      'ml101'
    );
    storeJob(
      store,
      'hw1-bob',
      'bob',
      'course:ml101',
      '2026-03-01T12:00:00Z',
      'ml101'
    );
    storeJob(
      store,
      'other',
      'bob',
      'course:ai202',
      '2026-03-01T13:00:00Z',
      'ai202'
    );
    storeJob(
      store,
      'outsider',
      'dave',
      'course:ml101',
      '2026-03-01T14:00:00Z',
      'ml101'
    );
    const list = await courses.jobs('ml101');
    expect(list.jobs.map(j => [j.id, j.owner, j.profile])).toEqual([
      ['hw1-bob', 'bob', 'course:ml101'],
      ['hw1', 'alice', 'course:ml101']
    ]);
  });

  it('shows students the course endpoint without where its replicas run', () => {
    const { endpoints, ep, serving } = setup();
    serving.table.putReplica({
      id: 'r1',
      endpointId: ep.id,
      provider: 'local',
      handle: { provider: 'local', replicaId: 'r1', ref: { pid: 4242 } },
      state: 'ready',
      address: '127.0.0.1:41234',
      reason: 'health check of http://127.0.0.1:41234/health passed',
      handoverOf: null,
      createdAt: '2026-03-01T10:00:00.000Z',
      readyAt: '2026-03-01T10:00:05.000Z',
      endsAt: null,
      drainingSince: null,
      stoppedAt: null,
      upstreamKey: 'replica-key-r1'
    });
    const r1 = (e: { replicas: { id: string }[] }) =>
      e.replicas.find(r => r.id === 'r1');
    expect(r1(endpoints.get(alice, ep.id))).toEqual({
      id: 'r1',
      provider: 'local',
      state: 'ready',
      ref: null,
      where: null,
      address: null,
      reason: null,
      createdAt: '2026-03-01T10:00:00.000Z',
      readyAt: '2026-03-01T10:00:05.000Z',
      endsAt: null
    });
    expect(JSON.stringify(endpoints.list(alice))).not.toMatch(/4242|41234/);
    expect(r1(endpoints.get(carol, ep.id))).toMatchObject({
      ref: '4242',
      address: '127.0.0.1:41234'
    });
    expect(
      r1(endpoints.get({ ...bob, name: 'root', admin: true }, ep.id))
    ).toMatchObject({ address: '127.0.0.1:41234' });
  });
});
