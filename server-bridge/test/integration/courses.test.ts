/**
 * Course mode on the real stack, through the hub: carol (ml101-instructors) shares her
 * endpoint (local provider, tiny-random) and an archive folder with ml101; alice and bob
 * (ml101) each take their own key and call the gateway with the openai client; alice
 * spends her budget (429) while bob's key still answers; alice sees the course endpoint
 * without where its replicas run; carol sees both students' usage and the state of their
 * course jobs, but neither their other jobs nor a job's output; bob sees nothing of alice's
 * jobs; bob reads the dataset and cannot change it.
 */
import OpenAI, { RateLimitError } from 'openai';
import { randomBytes } from 'node:crypto';
import {
  ClusterKernelSchema,
  CourseDatasetListSchema,
  CourseJobListSchema,
  CourseKeyCreatedSchema,
  CourseListSchema,
  CourseSchema,
  CourseUsageSchema,
  EndpointSchema,
  JobSchema,
  KernelSpecListSchema,
  Routes,
  type Endpoint
} from '../../src/contract';
import { BRIDGE_URL, bridge, createUserToken, settled } from './stack';

jest.setTimeout(240_000);

const COURSE = 'ml101';
const GATEWAY = `${BRIDGE_URL}/v1`;
const json = { 'Content-Type': 'application/json' };
const suffix = randomBytes(3).toString('hex');
const FOLDER = `it-course-${suffix}`;
const DATA = 'x,y\n1,2\n3,4\n';
const MESSAGES = [{ role: 'user' as const, content: 'Say something.' }];
/** Enough for two short requests of bob's; alice is refused after a few more. */
const BUDGET = 150;

let carol: string;
let alice: string;
let bob: string;
let endpoint: Endpoint;
const keys: Record<string, string> = {};
/** A job of alice's own research (profile cpu-small), not for the course. */
let aliceResearchJob: string | undefined;

/** The bridge through the hub; retries the transient 503 of a bridge restart. */
async function call(
  path: string,
  token: string,
  init: RequestInit = {}
): Promise<{ status: number; body: unknown }> {
  for (let i = 0; ; i++) {
    const res = await bridge(path, token, init);
    if (res.status !== 503 || i >= 30) {
      return res;
    }
    await new Promise(r => setTimeout(r, 1000));
  }
}

async function waitReady(id: string, token: string): Promise<Endpoint> {
  const deadline = Date.now() + 180_000;
  let last: unknown = null;
  while (Date.now() < deadline) {
    const res = await call(Routes.endpoint(id), token);
    last = res.body;
    if (res.status === 200) {
      const ep = EndpointSchema.parse(res.body);
      if (ep.state === 'ready') {
        return ep;
      }
      if (ep.state === 'failed') {
        throw new Error(`endpoint failed: ${ep.reason ?? ''}`);
      }
    }
    await new Promise(r => setTimeout(r, 1000));
  }
  throw new Error(`not ready in time; last answer: ${JSON.stringify(last)}`);
}

const client = (apiKey: string): OpenAI =>
  new OpenAI({ apiKey, baseURL: GATEWAY, maxRetries: 0, timeout: 120_000 });

const CHAT = { model: 'tiny-random', messages: MESSAGES, max_tokens: 4 };
const chat = (key: string) => client(key).chat.completions.create(CHAT);
/** What one `chat` reserves of a budget: the body's bytes and its max_tokens. */
const RESERVATION = Buffer.byteLength(JSON.stringify(CHAT)) + CHAT.max_tokens;

beforeAll(async () => {
  [carol, alice, bob] = await Promise.all([
    createUserToken('carol'),
    createUserToken('alice'),
    createUserToken('bob')
  ]);
  const res = await call(Routes.endpoints, carol, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({
      name: `it-course-${suffix}`,
      model: 'tiny-random',
      provider: 'local',
      resources: { gpus: 0 },
      visibility: 'course',
      group: COURSE
    })
  });
  expect(res.status).toBe(201);
  endpoint = EndpointSchema.parse(res.body);
  const put = await call(
    `${Routes.tierContent('archive')}?path=${encodeURIComponent(`${FOLDER}/data.csv`)}`,
    carol,
    {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: DATA
    }
  );
  expect(put.status).toBe(201);
  endpoint = await waitReady(endpoint.id, carol);
});

afterAll(async () => {
  if (carol === undefined) {
    return;
  }
  await bridge(Routes.course(COURSE), carol, {
    method: 'PUT',
    headers: json,
    body: JSON.stringify({ endpoint: null, dataset: null, jobProfile: null })
  });
  if (endpoint !== undefined) {
    await bridge(Routes.endpoint(endpoint.id), carol, { method: 'DELETE' });
  }
});

describe('course mode for ml101', () => {
  it('lets carol share her endpoint and a dataset folder, and no student change it', async () => {
    const settings = {
      title: 'Machine learning 101',
      endpoint: { endpointId: endpoint.id, tokenBudget: BUDGET },
      dataset: { tier: 'archive', path: FOLDER }
    };
    const denied = await call(Routes.course(COURSE), alice, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify(settings)
    });
    expect(denied.status).toBe(403);
    const res = await call(Routes.course(COURSE), carol, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify(settings)
    });
    expect(res.status).toBe(200);
    const course = CourseSchema.parse(res.body);
    expect(course).toMatchObject({
      role: 'instructor',
      title: 'Machine learning 101',
      updatedBy: 'carol',
      endpoint: { id: endpoint.id, tokenBudget: BUDGET, model: 'tiny-random' },
      dataset: { tier: 'archive', path: FOLDER, owner: 'carol' }
    });
  });

  it('lists the course as taught by carol and taken by alice', async () => {
    const mine = CourseListSchema.parse(
      (await call(Routes.courses, carol)).body
    );
    expect(mine.courses).toContainEqual(
      expect.objectContaining({ name: COURSE, role: 'instructor' })
    );
    const hers = CourseListSchema.parse(
      (await call(Routes.courses, alice)).body
    );
    expect(hers.courses).toContainEqual({
      name: COURSE,
      title: 'Machine learning 101',
      role: 'student',
      configured: true
    });
  });

  it('gives alice and bob each their own key, shown once, that opens the endpoint', async () => {
    for (const [name, token] of [
      ['alice', alice],
      ['bob', bob]
    ] as const) {
      const res = await call(Routes.courseEndpointKey(COURSE), token, {
        method: 'POST'
      });
      expect(res.status).toBe(201);
      const created = CourseKeyCreatedSchema.parse(res.body);
      expect(created).toMatchObject({
        endpointId: endpoint.id,
        model: 'tiny-random',
        tokenBudget: BUDGET,
        tokensLeft: BUDGET
      });
      keys[name] = created.key;
      const view = await call(Routes.course(COURSE), token);
      const course = CourseSchema.parse(view.body);
      expect(course.role).toBe('student');
      expect(course.myKey?.prefix).toBe(created.prefix);
      expect(JSON.stringify(view.body)).not.toContain(created.key);
    }
    expect(keys.alice).not.toBe(keys.bob);
    const carolKey = await call(Routes.courseEndpointKey(COURSE), carol, {
      method: 'POST'
    });
    expect(carolKey.status).toBe(403);

    const bobAnswer = await chat(keys.bob ?? '');
    expect(bobAnswer.choices[0]?.message).toBeDefined();
    expect(bobAnswer.usage?.total_tokens).toBeLessThan(BUDGET);
  });

  it('shows alice the course endpoint without where its replicas run', async () => {
    const asOwner = EndpointSchema.parse(
      (await call(Routes.endpoint(endpoint.id), carol)).body
    );
    const running = asOwner.replicas.filter(r => r.address !== null);
    expect(running.length).toBeGreaterThan(0);
    const secrets = running.flatMap(r =>
      [r.address, r.ref, r.where].filter((v): v is string => v !== null)
    );

    const res = await call(Routes.endpoint(endpoint.id), alice);
    expect(res.status).toBe(200);
    const asStudent = EndpointSchema.parse(res.body);
    expect(asStudent.replicas.length).toBeGreaterThan(0);
    for (const r of asStudent.replicas) {
      expect(r).toMatchObject({
        ref: null,
        where: null,
        address: null,
        reason: null
      });
    }
    const listed = await call(Routes.endpoints, alice);
    const course = await call(Routes.course(COURSE), alice);
    for (const body of [res.body, listed.body, course.body]) {
      const text = JSON.stringify(body);
      for (const secret of secrets) {
        expect(text).not.toContain(secret);
      }
    }
  });

  it('answers 429 to alice once her budget is spent, while bob still gets answers', async () => {
    let refused: unknown = null;
    for (let i = 0; i < 20 && refused === null; i++) {
      refused = await chat(keys.alice ?? '').then(
        () => null,
        (e: unknown) => e
      );
    }
    expect(refused).toBeInstanceOf(RateLimitError);
    expect((refused as RateLimitError).status).toBe(429);
    const bobAgain = await chat(keys.bob ?? '');
    expect(bobAgain.choices.length).toBeGreaterThan(0);
  });

  it("shows carol both students' usage, and nobody else", async () => {
    const res = await settled(
      () => call(Routes.courseUsage(COURSE), carol),
      r =>
        r.status === 200 &&
        CourseUsageSchema.parse(r.body).students.find(u => u.student === 'bob')
          ?.requests === 2
    );
    expect(res.status).toBe(200);
    const usage = CourseUsageSchema.parse(res.body);
    expect(usage.endpointId).toBe(endpoint.id);
    const of = (s: string) => usage.students.find(u => u.student === s);
    // The budget is a cap: alice was refused once a request no longer fitted.
    const used = of('alice')?.tokensUsed ?? -1;
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThanOrEqual(BUDGET);
    expect(of('alice')).toMatchObject({
      tokenBudget: BUDGET,
      budgetLeft: BUDGET - used
    });
    expect(BUDGET - used).toBeLessThan(RESERVATION);
    expect(of('bob')?.requests).toBe(2);
    expect(of('bob')?.budgetLeft).toBeGreaterThan(0);
    expect((await call(Routes.courseUsage(COURSE), bob)).status).toBe(403);
  });

  it('keeps the budget per student when alice rotates her key', async () => {
    const res = await call(Routes.courseEndpointKey(COURSE), alice, {
      method: 'POST'
    });
    expect(res.status).toBe(201);
    const rotated = CourseKeyCreatedSchema.parse(res.body);
    expect(rotated.tokensLeft).toBeLessThan(RESERVATION);
    const old = await chat(keys.alice ?? '').catch((e: unknown) => e);
    expect((old as { status?: number }).status).toBe(401);
    const fresh = await chat(rotated.key).catch((e: unknown) => e);
    expect(fresh).toBeInstanceOf(RateLimitError);
  });

  it("does not show carol alice's own research job, nor bob; its output stays alice's", async () => {
    const submitted = await call(Routes.jobs, alice, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        name: `it-course-job-${suffix}`,
        notebook: {
          path: 'work/course.ipynb',
          content: {
            nbformat: 4,
            nbformat_minor: 5,
            metadata: {},
            cells: [
              {
                cell_type: 'code',
                source: 'print("alice private")',
                metadata: {},
                outputs: [],
                execution_count: null
              }
            ]
          }
        },
        profile: 'cpu-small'
      })
    });
    expect(submitted.status).toBe(201);
    const job = JobSchema.parse(submitted.body);
    aliceResearchJob = job.id;

    const res = await call(Routes.courseJobs(COURSE), carol);
    expect(res.status).toBe(200);
    const listed = CourseJobListSchema.parse(res.body).jobs;
    expect(listed.map(j => j.id)).not.toContain(job.id);
    expect(listed.every(j => j.profile === 'course:ml101')).toBe(true);
    expect(JSON.stringify(res.body)).not.toContain('course.ipynb');

    for (const token of [carol, bob]) {
      expect((await call(Routes.job(job.id), token)).status).toBe(404);
      expect(
        (await call(`${Routes.jobOutput(job.id)}?element=0`, token)).status
      ).toBe(404);
    }
    expect((await call(Routes.courseJobs(COURSE), bob)).status).toBe(403);
  });

  it("gives ml101 a job profile with one active job per student: a second one of alice's gets 429", async () => {
    const shared = await call(Routes.course(COURSE), carol, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify({
        jobProfile: { baseProfile: 'cpu-small', maxActiveJobs: 1 }
      })
    });
    expect(shared.status).toBe(200);
    expect(CourseSchema.parse(shared.body).jobProfile).toMatchObject({
      profile: 'course:ml101',
      partition: 'cpu',
      maxActiveJobs: 1
    });
    const submit = (token: string, name: string) =>
      call(Routes.jobs, token, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({
          name,
          notebook: {
            path: 'work/course-sleep.ipynb',
            content: {
              nbformat: 4,
              nbformat_minor: 5,
              metadata: {},
              cells: [
                {
                  cell_type: 'code',
                  source: 'import time\ntime.sleep(120)',
                  metadata: {},
                  outputs: [],
                  execution_count: null
                }
              ]
            }
          },
          profile: 'course:ml101',
          resources: { timeMinutes: 5 }
        })
      });
    const started: string[] = [];
    try {
      const first = await submit(alice, `it-course-limit-a-${suffix}`);
      expect(first.status).toBe(201);
      const job = JobSchema.parse(first.body);
      started.push(job.id);

      const second = await submit(alice, `it-course-limit-b-${suffix}`);
      expect(second.status).toBe(429);
      const refused = (
        second.body as { error: { code: string; message: string } }
      ).error;
      expect(refused.code).toBe('course_limit');
      expect(refused.message).toContain(job.id);

      const bobs = await submit(bob, `it-course-limit-bob-${suffix}`);
      expect(bobs.status).toBe(201);
      started.push(JobSchema.parse(bobs.body).id);

      const mine = CourseSchema.parse(
        (await call(Routes.course(COURSE), alice)).body
      );
      expect(mine.myJobs).toMatchObject({
        activeJobIds: [job.id],
        maxActiveJobs: 1,
        jobsLeft: 0
      });
      const all = CourseJobListSchema.parse(
        (await call(Routes.courseJobs(COURSE), carol)).body
      ).jobs;
      const listed = all.filter(j => started.includes(j.id));
      expect(listed.map(j => j.owner).sort()).toEqual(['alice', 'bob']);
      expect(listed.find(j => j.id === job.id)).toMatchObject({
        owner: 'alice',
        profile: 'course:ml101',
        name: `it-course-limit-a-${suffix}`
      });
      // alice's research job (an earlier case) is not a course job: carol never sees it.
      expect(aliceResearchJob).toBeDefined();
      expect(all.map(j => j.id)).not.toContain(aliceResearchJob);
      expect(all.every(j => j.profile === 'course:ml101')).toBe(true);
    } finally {
      for (const [i, id] of started.entries()) {
        await call(Routes.jobAction(id, 'cancel'), i === 0 ? alice : bob, {
          method: 'POST'
        });
      }
    }
  });

  it('offers the job profile as a cluster kernel: alice sees it, and her kernel is her one active course job', async () => {
    const offered = await call(Routes.course(COURSE), carol, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify({
        jobProfile: { baseProfile: 'cpu-small', maxActiveJobs: 1, kernel: true }
      })
    });
    expect(offered.status).toBe(200);
    expect(CourseSchema.parse(offered.body).jobProfile?.kernel).toBe(true);
    const specs = async (token: string) =>
      KernelSpecListSchema.parse((await call(Routes.kernelSpecs, token)).body)
        .specs;
    expect(await specs(alice)).toContainEqual(
      expect.objectContaining({
        name: 'hpcb-course-ml101',
        profile: 'course:ml101'
      })
    );
    // carol teaches ml101 without being one of its members.
    expect((await specs(carol)).map(s => s.profile)).not.toContain(
      'course:ml101'
    );

    const started = await call(Routes.kernels, alice, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        profile: 'course:ml101',
        jupyterKernelId: `c0ffee00-0000-4000-8000-${randomBytes(6).toString('hex')}`,
        connection: { key: 'course-kernel-key', signatureScheme: 'hmac-sha256' }
      })
    });
    expect(started.status).toBe(201);
    const kernel = ClusterKernelSchema.parse(started.body);
    try {
      const mine = CourseSchema.parse(
        (await call(Routes.course(COURSE), alice)).body
      );
      expect(mine.myJobs?.activeJobIds).toEqual([kernel.id]);
      const batch = await call(Routes.jobs, alice, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({
          name: `it-course-after-kernel-${suffix}`,
          notebook: {
            path: 'work/course-after-kernel.ipynb',
            content: { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] }
          },
          profile: 'course:ml101'
        })
      });
      expect(batch.status).toBe(429);
      expect((batch.body as { error: { code: string } }).error.code).toBe(
        'course_limit'
      );
    } finally {
      expect(
        (await call(Routes.kernel(kernel.id), alice, { method: 'DELETE' }))
          .status
      ).toBe(200);
    }
    const after = CourseSchema.parse(
      (await call(Routes.course(COURSE), alice)).body
    );
    expect(after.myJobs?.activeJobIds).toEqual([]);
  });

  it('lets bob read the dataset but not change it', async () => {
    const list = await call(Routes.courseDatasetFiles(COURSE), bob);
    expect(list.status).toBe(200);
    expect(CourseDatasetListSchema.parse(list.body).entries).toEqual([
      expect.objectContaining({
        name: 'data.csv',
        path: 'data.csv',
        type: 'file',
        writable: false
      })
    ]);
    const content = `${Routes.courseDatasetContent(COURSE)}?path=data.csv`;
    const read = await call(content, bob);
    expect(read).toEqual({ status: 200, body: DATA });

    const write = await call(content, bob, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: 'bob was here'
    });
    expect(write.status).toBe(404);
    const escape = await call(
      `${Routes.courseDatasetContent(COURSE)}?path=${encodeURIComponent('../other/x')}`,
      bob
    );
    expect(escape.status).toBe(400);
    // bob's own archive has a folder of that name at most; carol's file is unchanged.
    await call(
      `${Routes.tierContent('archive')}?path=${encodeURIComponent(`${FOLDER}/data.csv`)}&overwrite=true`,
      bob,
      {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: 'bob was here'
      }
    );
    expect(await call(content, bob)).toEqual({ status: 200, body: DATA });
    await call(
      `${Routes.tierFiles('archive')}?path=${encodeURIComponent(`${FOLDER}/data.csv`)}`,
      bob,
      { method: 'DELETE' }
    );
  });
});
