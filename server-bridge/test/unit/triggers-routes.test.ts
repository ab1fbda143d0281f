/** The trigger routes through `app.inject()`: validation, refusals, owner-only access, audit. */
import { BASE, BRIDGE_SCOPE, HUB_USERS, testApp } from './app-fixture';
import { bucket } from './storage-fakes';
import { JOB, triggerHarness } from './trigger-fakes';

for (const [token, name, groups] of [
  ['tr-alice', 'alice', ['ml101', 'medical']],
  ['tr-bob', 'bob', ['ml101']]
] as const) {
  HUB_USERS[token] = {
    kind: 'user',
    name,
    admin: false,
    groups,
    scopes: [BRIDGE_SCOPE, `access:servers!user=${name}`]
  };
}

const WATCH = {
  kind: 'object.created',
  prefix: 'project:ml101/incoming/'
};

/** The fields of the answers the tests read. */
interface IBody {
  [field: string]: unknown;
  id?: string;
  events?: { outcome: string; reason: string | null }[];
  error?: { message: string; details?: unknown };
}

async function world() {
  const h = triggerHarness();
  h.project.put('ml101/incoming/old.csv', 'old');
  const { app } = await testApp({
    triggers: h.service,
    store: h.store,
    storage: h.fix.service
  });
  const call = async (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
    who = 'tr-alice'
  ) => {
    const res = await app.inject({
      method,
      url: `${BASE}/api/v1${url}`,
      headers: { authorization: `token ${who}` },
      ...(body === undefined ? {} : { payload: body as object })
    });
    return {
      status: res.statusCode,
      json: (res.body === '' ? {} : JSON.parse(res.body)) as IBody
    };
  };
  return { h, app, call };
}

const COPY_TRIGGER = {
  name: 'archive incoming',
  source: WATCH,
  action: { kind: 'copy', to: 'archive:incoming/' }
};

describe('trigger routes', () => {
  it('create, list, read, pause, list runs and delete, each audited', async () => {
    const { h, app, call } = await world();
    const created = await call('POST', '/triggers', COPY_TRIGGER);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      owner: 'alice',
      state: 'active',
      limits: { maxConcurrent: 2, maxPerHour: 20 },
      lastRuns: []
    });
    const id = String(created.json.id);
    expect((await call('GET', '/triggers')).json.triggers).toHaveLength(1);
    expect((await call('GET', `/triggers/${id}`)).json.name).toBe(
      'archive incoming'
    );
    const paused = await call('PATCH', `/triggers/${id}`, {
      state: 'paused',
      limits: { maxPerHour: 3 }
    });
    expect(paused.json).toMatchObject({
      state: 'paused',
      limits: { maxConcurrent: 2, maxPerHour: 3 }
    });

    h.project.put('ml101/incoming/new.csv', 'x');
    h.advance(31_000);
    await h.runner.tick();
    const runs = await call('GET', `/triggers/${id}/runs?limit=10`);
    expect(runs.json.runs).toMatchObject([
      { state: 'waiting', reason: 'paused', trigger: id }
    ]);

    expect((await call('DELETE', `/triggers/${id}`)).status).toBe(204);
    expect((await call('GET', `/triggers/${id}`)).status).toBe(404);
    expect(
      h.store
        .auditLog({ user: 'alice' })
        .map(a => a.action)
        .filter(a => a.startsWith('trigger.'))
    ).toEqual(['trigger.delete', 'trigger.pause', 'trigger.create']);
    await app.close();
  });

  it("answers 404 for another user's trigger on every route", async () => {
    const { app, call } = await world();
    const id = String((await call('POST', '/triggers', COPY_TRIGGER)).json.id);
    for (const [method, url, body] of [
      ['GET', `/triggers/${id}`],
      ['PATCH', `/triggers/${id}`, { state: 'paused' }],
      ['DELETE', `/triggers/${id}`],
      ['GET', `/triggers/${id}/runs`],
      ['POST', `/triggers/${id}/dry-run`]
    ] as const) {
      const res = await call(method, url, body, 'tr-bob');
      expect([method, url, res.status]).toEqual([method, url, 404]);
    }
    expect((await call('GET', '/triggers', undefined, 'tr-bob')).json).toEqual({
      triggers: []
    });
    expect((await call('GET', `/triggers/${id}`)).json.state).toBe('active');
    await app.close();
  });

  it('dry run: what would fire and whether it would start, recording nothing', async () => {
    const { h, app, call } = await world();
    const id = String(
      (
        await call('POST', '/triggers', {
          ...COPY_TRIGGER,
          limits: { maxPerHour: 1 }
        })
      ).json.id
    );
    h.project.put('ml101/incoming/a.csv', 'a');
    h.project.put('ml101/incoming/b.csv', 'b');
    const dry = await call('POST', `/triggers/${id}/dry-run`);
    expect(dry.status).toBe(200);
    expect(dry.json.events?.map(e => e.outcome)).toEqual(['run', 'wait']);
    expect(dry.json.events?.[1]?.reason).toMatch(/limit is 1/);
    expect((await call('GET', `/triggers/${id}/runs`)).json.runs).toEqual([]);
    await app.close();
  });

  it.each([
    [
      'a cron that is not valid',
      { source: { kind: 'schedule', cron: '61 * * * *' } },
      400,
      /minute "61"/
    ],
    [
      'a prefix that is not a folder URI',
      { source: { ...WATCH, prefix: 'project:ml101/incoming' } },
      400,
      /folder/
    ],
    [
      'a folder that does not exist',
      { source: { ...WATCH, prefix: 'project:ml101/none/' } },
      404,
      /no such file or folder/
    ],
    [
      'a job with an unknown profile',
      {
        action: { kind: 'submit', job: { ...JOB, profile: 'gpu-huge' } }
      },
      400,
      /No profile named "gpu-huge"/
    ],
    [
      'sensitive data that a job would write to a public tier',
      {
        source: { ...WATCH, prefix: 'sensitive:medical/' },
        action: {
          kind: 'submit',
          job: { ...JOB, profile: 'secure', outputs: ['outreach:x/{job}.csv'] }
        }
      },
      403,
      /data derived from sensitive data never on public tiers/
    ],
    [
      'sensitive data on a partition that is not compliant',
      {
        source: { ...WATCH, prefix: 'sensitive:medical/' },
        action: { kind: 'submit', job: JOB }
      },
      403,
      /sensitive data only on compliant partitions/
    ],
    [
      'a copy out of a sensitive tier',
      { source: { ...WATCH, prefix: 'sensitive:medical/' } },
      403,
      /only be copied to a sensitive tier/
    ],
    [
      'a copy into the watched folder',
      { action: { kind: 'copy', to: 'project:ml101/incoming/' } },
      400,
      /fire it again/
    ],
    [
      'a webhook to a private address',
      { action: { kind: 'webhook', url: 'http://10.0.0.5/hook' } },
      400,
      /webhook/i
    ],
    [
      'a trigger filter naming an unknown trigger',
      { source: { kind: 'job.ended', trigger: 'nope' } },
      404,
      /No trigger nope/
    ],
    [
      'rolling an endpoint on an object event',
      { action: { kind: 'roll-endpoint', endpoint: 'ep-alice' } },
      400,
      /source must be job.ended/
    ]
  ])('refuse %s', async (_what, change, status, message) => {
    const { h, app, call } = await world();
    bucket(h.fix, 'hpc-sensitive').put('medical/p.csv', 'id');
    const res = await call('POST', '/triggers', { ...COPY_TRIGGER, ...change });
    expect(res.status).toBe(status);
    const { message: said, details } = res.json.error ?? { message: '' };
    expect(`${said} ${JSON.stringify(details ?? null)}`).toMatch(message);
    expect((await call('GET', '/triggers')).json.triggers).toEqual([]);
    await app.close();
  });

  it('refuses the 51st trigger of a user', async () => {
    const { app, call } = await world();
    const schedule = {
      name: 'nightly',
      source: { kind: 'schedule', cron: '0 2 * * *' },
      action: { kind: 'webhook', url: 'http://8.8.8.8/hook' }
    };
    for (let i = 0; i < 50; i++) {
      expect((await call('POST', '/triggers', schedule)).status).toBe(201);
    }
    const refused = await call('POST', '/triggers', schedule);
    expect(refused.status).toBe(409);
    expect(refused.json.error?.message).toMatch(/the limit is 50/);
    expect((await call('POST', '/triggers', schedule, 'tr-bob')).status).toBe(
      201
    );
    await app.close();
  });
});
