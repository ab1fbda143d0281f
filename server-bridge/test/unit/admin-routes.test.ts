/** The admin routes through app.inject: access, overview, usage, health, audit search and CSV. */
import type { BridgeApp } from '../../src/app';
import { testStore } from './test-store';
import { HealthHistory } from '../../src/admin/health-history';
import {
  AdminHealthSchema,
  AdminOverviewSchema,
  AdminUsageSchema,
  AuditListSchema,
  ErrorBodySchema,
  Routes,
  type Job
} from '../../src/contract';
import { JobTable } from '../../src/jobs/repository/jobs';
import { Store } from '../../src/store';
import { jobOf, parseCsv } from './admin-helpers';
import { BASE, BRIDGE_SCOPE, HUB_USERS, testApp } from './app-fixture';
import { storageFixture, type IStorageFixture } from './storage-fakes';

HUB_USERS['adm-alice'] = {
  kind: 'user',
  name: 'alice',
  groups: ['climate', 'medical', 'ml101'],
  scopes: [BRIDGE_SCOPE, 'access:servers!user=alice']
};
HUB_USERS['adm-root'] = {
  kind: 'user',
  name: 'root',
  admin: true,
  groups: [],
  scopes: [BRIDGE_SCOPE, 'access:servers!user=root']
};

const ALICE = { authorization: 'token adm-alice' };
const ADMIN = { authorization: 'token adm-root' };
const HOUR = 3600_000;

let f: IStorageFixture;
let store: Store;
let app: BridgeApp;

beforeEach(async () => {
  store = testStore();
  f = storageFixture(store);
  ({ app } = await testApp({
    config: f.config,
    store,
    storage: f.service,
    hubGroups: async () =>
      new Map([
        ['medical', ['alice']],
        ['ml101', ['alice', 'bob']],
        ['empty', []]
      ]),
    replicas: () => ({
      replica: 'bridge-2',
      leader: 'bridge-1',
      since: '2030-01-01T00:00:00.000Z',
      until: '2030-01-01T00:00:10.000Z',
      live: [
        {
          id: 'bridge-1',
          startedAt: '2030-01-01T00:00:00.000Z',
          seenAt: '2030-01-01T00:00:05.000Z'
        }
      ]
    }),
    close: async () => store.close()
  }));
});

afterEach(async () => {
  await app.close();
});

function url(path: string, query: Record<string, string> = {}): string {
  const q = new URLSearchParams(query).toString();
  return `${BASE}${path}${q === '' ? '' : `?${q}`}`;
}

async function get(
  path: string,
  headers: Record<string, string>,
  query: Record<string, string> = {}
) {
  return app.inject({ method: 'GET', url: url(path, query), headers });
}

/** A finished job of alice: 2 elements × 1 h on 2 CPUs and 1 GPU, ended an hour ago. */
function finishedJob(id: string, owner = 'alice'): Job {
  const end = Date.now() - HOUR;
  const start = end - HOUR;
  const el = (index: number) => ({
    index,
    slurmId: `7_${index}`,
    state: 'COMPLETED' as const,
    reason: null,
    node: 'node1',
    exitCode: '0:0',
    elapsedSeconds: 3600,
    maxRssMB: null,
    progress: null,
    parameters: {},
    startedAt: new Date(start).toISOString(),
    endedAt: new Date(end).toISOString()
  });
  return jobOf([el(0), el(1)], 2, 1, {
    id,
    owner,
    submittedAt: new Date(start - 60_000).toISOString(),
    updatedAt: new Date(end).toISOString()
  });
}

function insertJob(job: Job): void {
  new JobTable(store).insert({
    job,
    workdir: `/home/${job.owner}/w`,
    clusterUser: job.owner,
    webhookUrl: null,
    request: {
      name: job.name,
      notebook: {
        path: 'a.ipynb',
        content: { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] }
      },
      profile: job.profile
    }
  });
}

async function putFile(tier: string, path: string, body: string) {
  const res = await app.inject({
    method: 'PUT',
    url: url(Routes.tierContent(tier), { path }),
    headers: { ...ALICE, 'content-type': 'application/octet-stream' },
    payload: body
  });
  expect(res.statusCode).toBeLessThan(300);
}

describe('admin routes', () => {
  it.each([
    Routes.adminOverview,
    Routes.adminUsage,
    Routes.adminHealth,
    Routes.audit
  ])('%s: 403 with a sentence for alice, 200 for an admin', async path => {
    const refused = await get(path, ALICE);
    expect(refused.statusCode).toBe(403);
    expect(ErrorBodySchema.parse(refused.json()).error.message).toBe(
      'Only hub admins may do this'
    );
    expect((await get(path, ADMIN)).statusCode).toBe(200);
    expect((await get(path, {})).statusCode).toBe(401);
  });

  it("overview: alice's jobs, endpoint and measured tier usage", async () => {
    insertJob(finishedJob('job-a'));
    insertJob({ ...finishedJob('job-b', 'bob'), state: 'FAILED' });
    const created = await app.inject({
      method: 'POST',
      url: url(Routes.endpoints),
      headers: ALICE,
      payload: { name: 'chat', model: 'tiny-random', provider: 'local' }
    });
    expect(created.statusCode).toBe(201);
    await putFile('sensitive', 'medical/scan.csv', 'abcdef');
    await putFile('scratch', 'notes.txt', '1234');
    // alice lists her tiers: the storage service measures her scopes.
    expect((await get(Routes.tiers, ALICE)).statusCode).toBe(200);

    const all = AdminOverviewSchema.parse(
      (await get(Routes.adminOverview, ADMIN)).json()
    );
    expect(all.jobs.counts).toEqual({ COMPLETED: 1, FAILED: 1 });
    expect(all.jobs.total).toBe(2);
    expect(all.endpoints).toEqual([
      expect.objectContaining({
        owner: 'alice',
        name: 'chat',
        model: 'tiny-random',
        provider: 'local'
      })
    ]);
    expect(all.tiers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          tier: 'sensitive',
          scope: 'group',
          name: 'medical',
          bytes: 6
        }),
        expect.objectContaining({
          tier: 'scratch',
          scope: 'user',
          name: 'alice',
          bytes: 4,
          quotaBytes: 1000
        }),
        // Nobody opened bob's archive: not measured, and not walked for this view.
        expect.objectContaining({
          tier: 'archive',
          scope: 'user',
          name: 'bob',
          bytes: null
        })
      ])
    );

    const bobs = AdminOverviewSchema.parse(
      (await get(Routes.adminOverview, ADMIN, { user: 'bob' })).json()
    );
    expect(bobs.jobs.newest.map(j => [j.id, j.owner, j.state])).toEqual([
      ['job-b', 'bob', 'FAILED']
    ]);
    expect(bobs.endpoints).toEqual([]);
    expect(
      bobs.tiers.some(t => t.name === 'alice' || t.name === 'medical')
    ).toBe(false);
    const failed = AdminOverviewSchema.parse(
      (await get(Routes.adminOverview, ADMIN, { state: 'FAILED' })).json()
    );
    expect(failed.jobs.newest.map(j => j.id)).toEqual(['job-b']);
    expect(failed.jobs.total).toBe(2);
  });

  it('usage: core-hours and GPU-hours per user and per group', async () => {
    insertJob(finishedJob('job-a'));
    insertJob(finishedJob('job-b', 'bob'));
    await putFile('scratch', 'notes.txt', '1234');
    await get(Routes.tiers, ALICE);

    const byUser = AdminUsageSchema.parse(
      (await get(Routes.adminUsage, ADMIN)).json()
    );
    expect(byUser.rows).toEqual([
      {
        name: 'alice',
        jobs: 1,
        coreHours: 4,
        gpuHours: 2,
        tokens: 0,
        bytes: 4
      },
      { name: 'bob', jobs: 1, coreHours: 4, gpuHours: 2, tokens: 0, bytes: 0 }
    ]);
    expect(byUser.note).toContain('running');

    // A window that ends half-way through the jobs' run counts half of it.
    const half = new Date(Date.now() - 1.5 * HOUR).toISOString();
    const early = AdminUsageSchema.parse(
      (await get(Routes.adminUsage, ADMIN, { until: half })).json()
    );
    expect(early.rows.find(r => r.name === 'alice')?.coreHours).toBeCloseTo(
      2,
      2
    );

    const byGroup = AdminUsageSchema.parse(
      (await get(Routes.adminUsage, ADMIN, { by: 'group' })).json()
    );
    expect(byGroup.rows.map(r => [r.name, r.members, r.coreHours])).toEqual([
      ['medical', ['alice'], 4],
      ['ml101', ['alice', 'bob'], 8]
    ]);
  });

  it('usage: refuses a window that ends before it starts', async () => {
    const res = await get(Routes.adminUsage, ADMIN, {
      since: '2026-03-02T00:00:00Z',
      until: '2026-03-01T00:00:00Z'
    });
    expect(res.statusCode).toBe(400);
    expect(ErrorBodySchema.parse(res.json()).error.message).toBe(
      '"since" must be before "until"'
    );
  });

  it('health: the recorded samples per backend and the leading replica', async () => {
    new HealthHistory(store).record([
      { name: 'hub', kind: 'hub', status: 'ok', latencyMs: 2 }
    ]);
    const h = AdminHealthSchema.parse(
      (await get(Routes.adminHealth, ADMIN, { hours: '24' })).json()
    );
    expect(h.intervalSeconds).toBe(60);
    expect(h.backends.map(b => [b.name, b.samples.length, b.okRatio])).toEqual([
      ['hub', 1, 1]
    ]);
    expect(h.replicas).toEqual({
      replica: 'bridge-2',
      leader: 'bridge-1',
      since: '2030-01-01T00:00:00.000Z',
      until: '2030-01-01T00:00:10.000Z',
      live: [
        {
          id: 'bridge-1',
          startedAt: '2030-01-01T00:00:00.000Z',
          seenAt: '2030-01-01T00:00:05.000Z'
        }
      ]
    });
    expect(
      (await get(Routes.adminHealth, ADMIN, { hours: '999' })).statusCode
    ).toBe(400);
  });

  it("audit: finds alice's sensitive file by tier and path; CSV parses", async () => {
    await putFile('sensitive', 'medical/scan, "one".csv', 'x');
    await putFile('scratch', 'scan, "one".csv', 'x');
    const query = { tier: 'sensitive', path: 'scan, "one"', user: 'alice' };
    const json = AuditListSchema.parse(
      (await get(Routes.audit, ADMIN, query)).json()
    );
    expect(json.records.map(r => [r.action, r.target])).toEqual([
      ['storage.write', 'sensitive:medical/scan, "one".csv']
    ]);
    const csv = await get(Routes.audit, ADMIN, { ...query, format: 'csv' });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toContain('audit.csv');
    const rows = parseCsv(csv.body);
    expect(rows[0]).toEqual([
      'id',
      'ts',
      'user',
      'action',
      'target',
      'outcome',
      'details'
    ]);
    expect(rows.slice(1).map(r => [r[2], r[4], r[5]])).toEqual([
      ['alice', 'sensitive:medical/scan, "one".csv', 'ok']
    ]);
    const jsonl = await get(Routes.audit, ADMIN, { ...query, format: 'jsonl' });
    expect(jsonl.body.trim().split('\n')).toHaveLength(1);
    const bad = await get(Routes.audit, ADMIN, { outcome: 'maybe' });
    expect(bad.statusCode).toBe(400);
  });
});
