/**
 * The admin dashboard on the real stack, through the hub's proxy: the admin sees alice's
 * job and endpoint in the overview, her core-hours after a finished SLURM job, the
 * backends' health samples, and finds her access to a sensitive file in the audit search
 * (JSON and CSV), and the tokens of an endpoint that alice deleted. Alice is refused
 * every admin route.
 */
import { randomBytes } from 'node:crypto';
import { computeHours } from '../../src/admin/compute-hours';
import {
  AdminHealthSchema,
  AdminOverviewSchema,
  AdminUsageSchema,
  AuditListSchema,
  EndpointSchema,
  ErrorBodySchema,
  JobSchema,
  Routes,
  TERMINAL_JOB_STATES,
  type Job
} from '../../src/contract';
import { parseCsv } from '../unit/admin-helpers';
import {
  JSON_HEADERS,
  createEndpoint,
  newEndpointKey,
  waitReady
} from './endpoint-calls';
import { BRIDGE_URL, bridge, createUserToken, send, settled } from './stack';

jest.setTimeout(180_000);

const RUN = randomBytes(4).toString('hex');
let alice: string;
let admin: string;

beforeAll(async () => {
  [alice, admin] = await Promise.all([
    createUserToken('alice'),
    createUserToken('admin')
  ]);
});

const q = (route: string, query: Record<string, string>): string =>
  `${route}?${new URLSearchParams(query).toString()}`;

async function finishedJob(): Promise<Job> {
  const res = await send(alice, 'POST', Routes.jobs, {
    name: `admin-it-${RUN}`,
    notebook: {
      path: 'work/admin-it.ipynb',
      content: {
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [
          {
            cell_type: 'code',
            source: 'import time; time.sleep(2); print("done")',
            metadata: {},
            outputs: [],
            execution_count: null
          }
        ]
      }
    },
    profile: 'cpu-small'
  });
  if (res.status !== 201) {
    throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const { id } = JobSchema.parse(res.body);
  const ended = (job: Job): boolean => TERMINAL_JOB_STATES.includes(job.state);
  const job = await settled(
    async () =>
      JobSchema.parse((await send(alice, 'GET', Routes.job(id))).body),
    ended,
    120_000
  );
  if (!ended(job)) {
    throw new Error(`job ${job.id} still ${job.state}`);
  }
  return job;
}

describe('admin dashboard on the stack', () => {
  it('refuses alice on every admin route with a sentence', async () => {
    for (const path of [
      Routes.adminOverview,
      Routes.adminUsage,
      Routes.adminHealth,
      Routes.audit
    ]) {
      const res = await send(alice, 'GET', path);
      expect([path, res.status]).toEqual([path, 403]);
      expect(ErrorBodySchema.parse(res.body).error.message).toBe(
        'Only hub admins may do this'
      );
    }
  });

  it("shows alice's job, endpoint and core-hours to the admin", async () => {
    const job = await finishedJob();
    expect(job.state).toBe('COMPLETED');
    const created = await send(alice, 'POST', Routes.endpoints, {
      name: `adm-${RUN}`,
      model: 'tiny-random',
      provider: 'local'
    });
    expect(created.status).toBe(201);
    const endpoint = EndpointSchema.parse(created.body);
    try {
      const overview = AdminOverviewSchema.parse(
        (
          await send(
            admin,
            'GET',
            q(Routes.adminOverview, { user: 'alice', limit: '500' })
          )
        ).body
      );
      expect(overview.jobs.newest).toContainEqual(
        expect.objectContaining({
          id: job.id,
          owner: 'alice',
          profile: 'cpu-small',
          state: 'COMPLETED'
        })
      );
      expect(overview.jobs.counts.COMPLETED).toBeGreaterThanOrEqual(1);
      expect(overview.endpoints).toContainEqual(
        expect.objectContaining({
          id: endpoint.id,
          owner: 'alice',
          model: 'tiny-random',
          provider: 'local'
        })
      );
      expect(overview.tiers.length).toBeGreaterThan(0);

      // A window around this job only (other jobs of alice may share it: at least this one).
      const since = new Date(Date.parse(job.submittedAt) - 1000).toISOString();
      const usage = AdminUsageSchema.parse(
        (await send(admin, 'GET', q(Routes.adminUsage, { since }))).body
      );
      const mine = computeHours(
        job,
        { since: Date.parse(since), until: Date.parse(usage.until) },
        Date.now()
      );
      expect(mine.coreHours).toBeGreaterThan(0);
      const row = usage.rows.find(r => r.name === 'alice');
      expect(row?.jobs).toBeGreaterThanOrEqual(1);
      expect(row?.coreHours).toBeGreaterThanOrEqual(
        Math.round(mine.coreHours * 10_000) / 10_000
      );

      const byGroup = AdminUsageSchema.parse(
        (await send(admin, 'GET', q(Routes.adminUsage, { since, by: 'group' })))
          .body
      );
      const medical = byGroup.rows.find(r => r.name === 'medical');
      expect(medical?.members).toEqual(['alice']);
      expect(medical?.coreHours).toBe(row?.coreHours);
    } finally {
      await send(alice, 'DELETE', Routes.endpoint(endpoint.id));
    }
  });

  it("records the backends' health every minute", async () => {
    const res = await send(
      admin,
      'GET',
      q(Routes.adminHealth, { hours: '24' })
    );
    expect(res.status).toBe(200);
    const health = AdminHealthSchema.parse(res.body);
    const names = health.backends.map(b => b.name);
    expect(names).toEqual(
      expect.arrayContaining(['hub', 'cluster:demo', 's3:demo'])
    );
    for (const b of health.backends) {
      expect(b.samples.length).toBeGreaterThan(0);
    }
  });

  it("finds alice's sensitive file access by its path; the CSV export parses", async () => {
    const path = `medical/admin-it-${RUN}, "scan".csv`;
    const put = await fetch(
      `${BRIDGE_URL}${q(Routes.tierContent('sensitive'), { path })}`,
      {
        method: 'PUT',
        headers: {
          Authorization: `token ${alice}`,
          'Content-Type': 'application/octet-stream'
        },
        body: 'id,value\n1,2\n'
      }
    );
    expect(put.status).toBeLessThan(300);
    const read = await bridge(
      q(Routes.tierContent('sensitive'), { path }),
      alice
    );
    expect(read.status).toBe(200);

    const search = { tier: 'sensitive', path: `admin-it-${RUN}` };
    const found = AuditListSchema.parse(
      (await send(admin, 'GET', q(Routes.audit, search))).body
    );
    expect(
      found.records.map(r => [r.user, r.action, r.target, r.details.outcome])
    ).toEqual([
      ['alice', 'storage.read', `sensitive:${path}`, 'ok'],
      ['alice', 'storage.write', `sensitive:${path}`, 'ok']
    ]);

    const csv = await fetch(
      `${BRIDGE_URL}${q(Routes.audit, { ...search, format: 'csv' })}`,
      { headers: { Authorization: `token ${admin}` } }
    );
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const rows = parseCsv(await csv.text());
    expect(rows[0]).toEqual([
      'id',
      'ts',
      'user',
      'action',
      'target',
      'outcome',
      'details'
    ]);
    expect(rows.slice(1).map(r => [r[2], r[3], r[4], r[5]])).toEqual([
      ['alice', 'storage.read', `sensitive:${path}`, 'ok'],
      ['alice', 'storage.write', `sensitive:${path}`, 'ok']
    ]);

    const none = AuditListSchema.parse(
      (await send(admin, 'GET', q(Routes.audit, { ...search, user: 'bob' })))
        .body
    );
    expect(none.records).toEqual([]);
  });

  it("keeps an endpoint's tokens in the usage report after the endpoint is deleted", async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    const tokensOfAlice = async (): Promise<number> => {
      const usage = AdminUsageSchema.parse(
        (await send(admin, 'GET', q(Routes.adminUsage, { since }))).body
      );
      return usage.rows.find(r => r.name === 'alice')?.tokens ?? 0;
    };
    const endpoint = await createEndpoint(alice, {
      name: `adm-usage-${RUN}`,
      model: 'tiny-random',
      provider: 'local',
      resources: { gpus: 0 },
      visibility: 'private'
    });
    let deleted = false;
    try {
      await waitReady(endpoint.id, alice);
      const key = await newEndpointKey(endpoint.id, alice);
      const res = await fetch(`${BRIDGE_URL}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...JSON_HEADERS, Authorization: `Bearer ${key.key}` },
        body: JSON.stringify({
          model: 'tiny-random',
          messages: [{ role: 'user', content: 'Say something.' }],
          max_tokens: 4
        })
      });
      expect(res.status).toBe(200);
      const answer = (await res.json()) as { usage: { total_tokens: number } };
      expect(answer.usage.total_tokens).toBeGreaterThan(0);

      // A replica of several writes its usage every few seconds; a single bridge counts
      // what it has not written yet in its own report.
      const before = await settled(
        tokensOfAlice,
        tokens => tokens >= answer.usage.total_tokens,
        15_000
      );
      expect(before).toBeGreaterThanOrEqual(answer.usage.total_tokens);

      const del = await send(alice, 'DELETE', Routes.endpoint(endpoint.id));
      expect(del.status).toBeLessThan(300);
      deleted = true;
      expect(await tokensOfAlice()).toBeGreaterThanOrEqual(before);
    } finally {
      if (!deleted) {
        await send(alice, 'DELETE', Routes.endpoint(endpoint.id));
      }
    }
  }, 300_000);
});
