/**
 * The assistant's endpoints and keys: which endpoints a user may pick (own, shared,
 * course), the course key made implicitly once, a revoked course key refused without a
 * new one, a spent budget, the own endpoint's key reused, the course switch, usage by
 * purpose in the course's usage, and the gateway's model list.
 */
import type { AssistantEndpoint, CourseUsage } from '../../src/contract';
import {
  assistantFixture,
  call,
  completionAnswer,
  shareCourse,
  type IAssistantFixture
} from './assistant-fakes';

let f: IAssistantFixture;

beforeEach(async () => {
  f = await assistantFixture();
  f.model.handle = c => {
    c.res.writeHead(200, { 'content-type': 'application/json' });
    c.res.end(JSON.stringify(completionAnswer('x = 1')));
  };
});

afterEach(async () => {
  await f.close();
});

const COMPLETE = '/api/v1/assistant/complete';

async function endpointsOf(
  who: 'alice' | 'bob' | 'carol' | 'dave'
): Promise<AssistantEndpoint[]> {
  const res = await call(f, who, 'GET', '/api/v1/assistant/endpoints');
  expect(res.status).toBe(200);
  return ((await res.json()) as { endpoints: AssistantEndpoint[] }).endpoints;
}

const complete = (who: 'alice' | 'bob', endpointId: string) =>
  call(f, who, 'POST', COMPLETE, { endpointId, prefix: 'x = ' });

const courseKeys = () =>
  f.keys.list(f.course.id).filter(k => k.name === 'course ml101');

const audits = (action: string) =>
  f.store.db
    .prepare('SELECT user, details FROM audit WHERE action = ?')
    .all(action) as { user: string; details: string }[];

describe('the endpoints of the assistant', () => {
  it('lists own, shared and course endpoints, the course one only with its switch on', async () => {
    await shareCourse(f, 1000, { completion: false, chat: false });
    const off = await endpointsOf('alice');
    expect(off.map(e => [e.name, e.source])).toEqual([
      ['mine', 'own'],
      ['labs', 'shared']
    ]);
    expect(off[0]).toMatchObject({
      completion: true,
      chat: true,
      course: null,
      tokensLeft: null,
      unavailable: null
    });

    await shareCourse(f, 1000, { completion: true, chat: false });
    const on = await endpointsOf('alice');
    expect(on.map(e => [e.name, e.source])).toEqual([
      ['mine', 'own'],
      ['labs', 'shared'],
      ['course', 'course']
    ]);
    expect(on[2]).toMatchObject({
      endpointId: f.course.id,
      model: 'tiny-random',
      course: 'ml101',
      completion: true,
      chat: false,
      tokensLeft: 1000,
      unavailable: null
    });
    expect((await endpointsOf('bob')).map(e => e.source)).toEqual(['course']);
    // The instructor's own endpoint is hers; dave sees his own only.
    expect((await endpointsOf('carol')).map(e => e.source)).toEqual(['own']);
    expect((await endpointsOf('dave')).map(e => e.name)).toEqual(['labs']);
    // Listing makes no key.
    expect(f.keys.list(f.course.id)).toEqual([]);
  });

  it('refuses an endpoint that is not listed, and the purpose a course has off', async () => {
    await shareCourse(f, 1000, { completion: false, chat: true });
    const theirs = await complete('bob', f.own.id);
    expect(theirs.status).toBe(404);
    const off = await complete('bob', f.course.id);
    expect(off.status).toBe(403);
    expect(
      ((await off.json()) as { error: { message: string } }).error.message
    ).toContain('has not turned inline completion on');
    expect(f.model.calls).toHaveLength(0);
  });
});

describe('course keys of the assistant', () => {
  it('makes a student one course key, implicitly, for twenty concurrent first requests', async () => {
    await shareCourse(f, 10_000);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => complete('alice', f.course.id))
    );
    expect(answers.map(a => a.status)).toEqual(Array(20).fill(200));
    const keys = courseKeys();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ owner: 'alice', tokenBudget: 10_000 });
    const made = audits('course.key.create');
    expect(made).toHaveLength(1);
    expect(JSON.parse(made[0]?.details ?? '{}')).toMatchObject({
      implicit: true,
      keyId: keys[0]?.id
    });
    // The key the student asks for later replaces it, with what is left of the budget.
    const asked = await call(
      f,
      'alice',
      'POST',
      '/api/v1/courses/ml101/endpoint-key'
    );
    expect(asked.status).toBe(201);
    expect(courseKeys().filter(k => k.revokedAt === null)).toHaveLength(1);
  });

  it('refuses a student whose key the instructor revoked, and makes no new one', async () => {
    await shareCourse(f);
    expect((await complete('alice', f.course.id)).status).toBe(200);
    const revoke = await call(
      f,
      'carol',
      'DELETE',
      '/api/v1/courses/ml101/endpoint-keys/alice'
    );
    expect(revoke.status).toBe(200);
    const listed = (await endpointsOf('alice')).find(
      e => e.source === 'course'
    );
    expect(listed?.unavailable).toBe(
      'Your course key was revoked by the instructor'
    );

    const refused = await complete('alice', f.course.id);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({
      error: {
        message: 'Your course key was revoked by the instructor',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key'
      }
    });
    expect(courseKeys()).toHaveLength(1);
    expect(f.model.calls).toHaveLength(1);
  });

  it("answers 429 in OpenAI's shape once the student's budget is spent", async () => {
    await shareCourse(f, 100);
    // 20 + 4 tokens per completion; the reservation (body bytes + 64) fits only once.
    expect((await complete('alice', f.course.id)).status).toBe(429);
    await shareCourse(f, 400);
    expect((await complete('alice', f.course.id)).status).toBe(200);
    await shareCourse(f, 24);
    const listed = (await endpointsOf('alice')).find(
      e => e.source === 'course'
    );
    expect(listed).toMatchObject({
      tokensLeft: 0,
      unavailable: 'You have used your 24 tokens of course ml101'
    });
    const spent = await complete('alice', f.course.id);
    expect(spent.status).toBe(429);
    const body = (await spent.json()) as { error: Record<string, unknown> };
    expect(body.error).toEqual({
      message: 'You have used your 24 tokens of course ml101',
      type: 'insufficient_quota',
      param: null,
      code: 'insufficient_quota'
    });
    expect(f.model.calls).toHaveLength(1);
  });
});

describe("own and shared endpoints' keys", () => {
  it('makes one key named assistant per user and endpoint and reuses it', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await complete('alice', f.own.id)).status).toBe(200);
    }
    const mine = f.keys.list(f.own.id);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      name: 'assistant',
      owner: 'alice',
      tokenBudget: null
    });
    expect(f.usage.keyUsage(f.own.id).get(mine[0]?.id ?? '')).toMatchObject({
      requests: 3,
      tokensUsed: 72
    });
    // The key's owner revoking it makes a new one next time (it is their endpoint).
    f.keys.revoke(f.own.id, mine[0]?.id ?? '');
    expect((await complete('alice', f.own.id)).status).toBe(200);
    expect(
      f.keys.list(f.own.id).filter(k => k.revokedAt === null)
    ).toHaveLength(1);
  });

  it("refuses a shared endpoint's key its owner revoked", async () => {
    expect((await complete('alice', f.shared.id)).status).toBe(200);
    const [key] = f.keys.list(f.shared.id);
    expect(key).toMatchObject({ owner: 'alice', name: 'assistant' });
    f.keys.revoke(f.shared.id, key?.id ?? '');
    const refused = await complete('alice', f.shared.id);
    expect(refused.status).toBe(401);
    expect(
      ((await refused.json()) as { error: { message: string } }).error.message
    ).toBe("dave, the owner of labs, revoked your assistant's key");
    expect(f.keys.list(f.shared.id)).toHaveLength(1);
  });
});

describe('the course switch and usage by purpose', () => {
  it('is changed by instructors only, audited with course.update', async () => {
    await shareCourse(f, 1000, { completion: true, chat: false });
    const student = await call(f, 'alice', 'PUT', '/api/v1/courses/ml101', {
      assistant: { completion: true, chat: true }
    });
    expect(student.status).toBe(403);
    const view = await call(f, 'alice', 'GET', '/api/v1/courses/ml101');
    expect(((await view.json()) as { assistant: unknown }).assistant).toEqual({
      completion: true,
      chat: false
    });
    const last = audits('course.update').at(-1);
    expect(JSON.parse(last?.details ?? '{}')).toMatchObject({
      assistant: { completion: true, chat: false }
    });
    // Other settings keep the switch as it was.
    await call(f, 'carol', 'PUT', '/api/v1/courses/ml101', { title: 'ML' });
    const again = await call(f, 'carol', 'GET', '/api/v1/courses/ml101');
    expect(((await again.json()) as { assistant: unknown }).assistant).toEqual({
      completion: true,
      chat: false
    });
  });

  it("puts the assistant's tokens by purpose in the course's usage", async () => {
    await shareCourse(f, 10_000);
    expect((await complete('alice', f.course.id)).status).toBe(200);
    expect((await complete('alice', f.course.id)).status).toBe(200);
    const res = await call(f, 'carol', 'GET', '/api/v1/courses/ml101/usage');
    expect(res.status).toBe(200);
    const usage = (await res.json()) as CourseUsage;
    expect(usage.students.find(s => s.student === 'alice')).toMatchObject({
      tokensUsed: 48,
      completionTokens: 48,
      chatTokens: 0
    });
    expect(usage.students.find(s => s.student === 'bob')).toMatchObject({
      tokensUsed: 0,
      completionTokens: 0,
      chatTokens: 0
    });
  });
});

describe('GET /v1/models', () => {
  it("lists the served model first, then the endpoint's name", async () => {
    const { key } = f.keys.create(f.own.id, 'alice', { name: 'k' });
    const res = await fetch(`${f.base}/v1/models`, {
      headers: { authorization: `Bearer ${key}` }
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      object: 'list',
      data: [
        { id: 'tiny-random', object: 'model', created: 0, owned_by: 'alice' },
        { id: 'mine', object: 'model', created: 0, owned_by: 'alice' }
      ]
    });
    const one = await fetch(`${f.base}/v1/models/mine`, {
      headers: { authorization: `Bearer ${key}` }
    });
    expect(await one.json()).toMatchObject({ id: 'tiny-random' });
  });
});
