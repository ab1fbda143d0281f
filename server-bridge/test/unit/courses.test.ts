/**
 * Course rules of CourseService: a key per student bound to the course endpoint, a budget
 * per student that survives key rotation, and a changed budget applied to held keys.
 */
import type { IAuthUser } from '../../src/auth/decide';
import { CourseService } from '../../src/courses/service';
import { EndpointKeys } from '../../src/endpoints/keys';
import { EndpointService } from '../../src/endpoints/service';
import { EndpointUsage } from '../../src/endpoints/usage';
import { Store } from '../../src/store';
import { controllerFixture } from './endpoints-fakes';

const user = (name: string, groups: string[]): IAuthUser => ({
  name,
  groups,
  roles: ['researcher'],
  instructorOf: groups
    .filter(g => g.endsWith('-instructors'))
    .map(g => g.slice(0, -'-instructors'.length)),
  admin: false
});

const carol = user('carol', ['ml101-instructors']);
const alice = user('alice', ['ml101']);
const bob = user('bob', ['ml101']);

function setup() {
  const store = new Store(':memory:');
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
    keys: { keys, usage }
  });
  const ep = endpoints.create(carol, {
    name: 'course',
    model: 'tiny-random',
    provider: 'local'
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
  return { store, endpoints, keys, usage, courses, ep, spend };
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

  it('lists taught courses and taken courses with settings only', async () => {
    const { courses, ep } = setup();
    expect(courses.list(alice).courses).toEqual([]);
    await courses.update(carol, 'ml101', {
      title: 'ML',
      endpoint: { endpointId: ep.id, tokenBudget: 1 }
    });
    expect(courses.list(alice).courses).toEqual([
      { name: 'ml101', title: 'ML', role: 'student' }
    ]);
    expect(courses.list(carol).courses).toEqual([
      { name: 'ml101', title: 'ML', role: 'instructor' }
    ]);
  });
});
