import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  ClusterListSchema,
  CONTRACT_VERSION,
  ErrorBodySchema,
  ErrorCodeSchema,
  HealthSchema,
  Routes,
  TierPathSchema,
  VersionSchema
} from '../../src/contract';
import { SshError } from '../../src/adapters/ssh/client';
import { SlurmCommandError } from '../../src/adapters/ssh/slurm';
import { policy } from '../../src/auth/policy';
import { DomainError, isRefusal } from '../../src/domain-error';
import { statusOf } from '../../src/errors';
import { BASE, CPU_PARTITION, FakeSlurm, testApp } from './app-fixture';
import { servingApp } from './gateway-fakes';

const AUTH = { authorization: 'token alice-token' };

const OpenApiSchema = z.object({
  openapi: z.string(),
  paths: z.record(
    z.string(),
    z.record(
      z.string(),
      z.object({
        responses: z.record(z.string(), z.unknown()),
        security: z.unknown().optional()
      })
    )
  ),
  components: z.object({ schemas: z.record(z.string(), z.unknown()) })
});

describe('contract', () => {
  it('serves the version publicly', async () => {
    const { app } = await testApp();
    const res = await app.inject({ url: `${BASE}${Routes.version}` });
    expect(VersionSchema.parse(res.json())).toEqual({
      name: 'hpc-bridge',
      version: '9.9.9',
      contract: CONTRACT_VERSION
    });
    await app.close();
  });

  it('generates an OpenAPI document listing every fixed path with its success and error responses', async () => {
    const { app } = await servingApp();
    const res = await app.inject({ url: `${BASE}${Routes.openapi}` });
    expect(res.statusCode).toBe(200);
    const doc = OpenApiSchema.parse(res.json());
    expect(doc.openapi).toBe('3.1.0');
    for (const path of Object.values(Routes)) {
      if (typeof path !== 'string') {
        continue;
      }
      const ops = doc.paths[`${BASE}${path}`];
      const op = ops?.get ?? ops?.post;
      expect({ path, has200: op?.responses['200'] !== undefined }).toEqual({
        path,
        has200: true
      });
    }
    for (const path of [Routes.whoami, Routes.health, Routes.clusters]) {
      const op = doc.paths[`${BASE}${path}`]?.get;
      expect(Object.keys(op?.responses ?? {})).toEqual(
        expect.arrayContaining(['200', '400', '401', '403', '500', '503'])
      );
      expect(op?.security).toEqual([{ hubToken: [] }]);
    }
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'Error',
        'Whoami',
        'Version',
        'Health',
        'ClusterList',
        'Job',
        'JobList',
        'JobSubmit',
        'JobEstimate',
        'ProfileList',
        'SshCredential'
      ])
    );
    for (const path of [
      '/api/v1/jobs/{id}',
      '/api/v1/jobs/{id}/log',
      '/api/v1/jobs/{id}/output'
    ]) {
      expect(
        Object.keys(doc.paths[`${BASE}${path}`]?.get?.responses ?? {})
      ).toEqual(expect.arrayContaining(['200', '401', '403', '404']));
    }
    await app.close();
  });

  it('answers unknown paths with the error shape', async () => {
    const { app } = await testApp();
    const res = await app.inject({ url: `${BASE}/api/v1/nothing-here?x=1` });
    expect(res.statusCode).toBe(404);
    expect(ErrorBodySchema.parse(res.json())).toEqual({
      error: {
        code: 'not_found',
        message: `No route GET ${BASE}/api/v1/nothing-here`
      }
    });
    await app.close();
  });

  it('answers invalid requests with 400 and the validation details', async () => {
    const { app } = await testApp();
    const res = await app.inject({
      url: `${BASE}${Routes.clusters}?refresh=maybe`,
      headers: AUTH
    });
    expect(res.statusCode).toBe(400);
    const body = ErrorBodySchema.parse(res.json());
    expect(body.error.code).toBe('bad_request');
    expect(body.error.details).toEqual([
      expect.objectContaining({ in: 'querystring', path: '/refresh' })
    ]);
    await app.close();
  });

  it('hides 5xx details from the client and logs them', async () => {
    const { app, logs } = await testApp();
    app.get('/boom', { config: policy.public('a test route') }, async () => {
      throw new Error('secret internal detail');
    });
    const res = await app.inject({ url: '/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      error: { code: 'internal', message: 'Internal error' }
    });
    expect(logs()).toContain('secret internal detail');
    await app.close();
  });

  it('answers a domain error with the status of its code', async () => {
    const { app } = await testApp();
    app.get('/refused', { config: policy.public('a test route') }, async () => {
      throw new DomainError('course_limit', 'Too many jobs', { limit: 2 });
    });
    const res = await app.inject({ url: '/refused' });
    expect(res.statusCode).toBe(429);
    expect(res.json()).toEqual({
      error: {
        code: 'course_limit',
        message: 'Too many jobs',
        details: { limit: 2 }
      }
    });
    await app.close();
  });

  it('counts a domain error as a refusal exactly when its status is 4xx', () => {
    for (const code of ErrorCodeSchema.options) {
      expect([code, isRefusal(new DomainError(code, code))]).toEqual([
        code,
        statusOf(code) < 500
      ]);
    }
    expect(isRefusal(new Error('not_found'))).toBe(false);
  });

  it('refuses to send a response that does not match its schema', async () => {
    const broken = { ...CPU_PARTITION, cpus: { total: 1.5, idle: -1 } };
    const { app, logs } = await testApp({
      clusters: [
        { name: 'demo', title: 'Demo', slurm: new FakeSlurm([broken]) }
      ]
    });
    const res = await app.inject({
      url: `${BASE}${Routes.clusters}`,
      headers: AUTH
    });
    expect(res.statusCode).toBe(500);
    expect(ErrorBodySchema.parse(res.json()).error).toEqual({
      code: 'internal',
      message: 'Internal error'
    });
    expect(logs()).toContain('response does not match its schema');
    await app.close();
  });
});

describe('clusters', () => {
  it('lists clusters with partitions', async () => {
    const { app } = await testApp();
    const res = await app.inject({
      url: `${BASE}${Routes.clusters}`,
      headers: AUTH
    });
    expect(res.statusCode).toBe(200);
    const body = ClusterListSchema.parse(res.json());
    expect(body.clusters).toEqual([
      {
        name: 'demo',
        title: 'Demo',
        status: 'ok',
        partitions: [CPU_PARTITION],
        updatedAt: expect.any(String)
      }
    ]);
    await app.close();
  });

  it('lists an unreachable cluster as down with its error, still 200', async () => {
    const down = new FakeSlurm(
      new Error('cannot connect to 127.0.0.1:2222 as hpcbridge: ECONNREFUSED')
    );
    const { app } = await testApp({
      clusters: [
        { name: 'up', title: 'Up', slurm: new FakeSlurm([CPU_PARTITION]) },
        { name: 'down', title: 'Down', slurm: down }
      ]
    });
    const res = await app.inject({
      url: `${BASE}${Routes.clusters}`,
      headers: AUTH
    });
    expect(res.statusCode).toBe(200);
    const [up, gone] = ClusterListSchema.parse(res.json()).clusters;
    expect(up?.status).toBe('ok');
    expect(gone).toMatchObject({
      name: 'down',
      status: 'down',
      partitions: [],
      error: expect.stringMatching(/ECONNREFUSED/)
    });
    await app.close();
  });

  it("names the down cluster and the part that failed, and lists the other one's partitions", async () => {
    const ctldDown = new SlurmCommandError(['sinfo', '--json'], {
      code: 1,
      signal: null,
      stdout: '',
      stderr:
        'slurm_load_partitions: Unable to contact slurm controller (connect failure)\n'
    });
    const noLogin = new SshError(
      'cannot connect to 127.0.0.1:2224 as hpcbridge: connect ECONNREFUSED',
      'connect'
    );
    const { app } = await testApp({
      clusters: [
        { name: 'demo', title: 'Demo', slurm: new FakeSlurm([CPU_PARTITION]) },
        { name: 'demo2', title: 'Demo 2', slurm: new FakeSlurm(ctldDown) },
        { name: 'demo3', title: 'Demo 3', slurm: new FakeSlurm(noLogin) }
      ]
    });
    const res = await app.inject({
      url: `${BASE}${Routes.clusters}`,
      headers: AUTH
    });
    expect(res.statusCode).toBe(200);
    const clusters = ClusterListSchema.parse(res.json()).clusters;
    expect(
      clusters.map(c => ({
        name: c.name,
        status: c.status,
        partitions: c.partitions.length,
        error: c.error
      }))
    ).toEqual([
      { name: 'demo', status: 'ok', partitions: 1, error: undefined },
      {
        name: 'demo2',
        status: 'down',
        partitions: 0,
        error:
          'slurmctld of demo2 not reachable: sinfo --json failed: slurm_load_partitions: Unable to contact slurm controller (connect failure)'
      },
      {
        name: 'demo3',
        status: 'down',
        partitions: 0,
        error:
          'login node of demo3 not reachable over SSH: cannot connect to 127.0.0.1:2224 as hpcbridge: connect ECONNREFUSED'
      }
    ]);
    await app.close();
  });

  it('reuses a fresh answer unless refresh=true', async () => {
    const slurm = new FakeSlurm([CPU_PARTITION]);
    const { app } = await testApp({
      clusters: [{ name: 'demo', title: 'Demo', slurm }]
    });
    await app.inject({ url: `${BASE}${Routes.clusters}`, headers: AUTH });
    await app.inject({ url: `${BASE}${Routes.clusters}`, headers: AUTH });
    expect(slurm.calls).toBe(1);
    await app.inject({
      url: `${BASE}${Routes.clusters}?refresh=true`,
      headers: AUTH
    });
    expect(slurm.calls).toBe(2);
    await app.close();
  });
});

describe('health', () => {
  it('reports each component and the worst status overall', async () => {
    const { app } = await testApp({
      clusters: [
        {
          name: 'demo',
          title: 'Demo',
          slurm: new FakeSlurm([], {
            ssh: { ok: true },
            slurmctld: { ok: false, detail: 'Slurmctld(primary) at x is DOWN' }
          })
        }
      ],
      s3: [
        {
          name: 'demo',
          port: {
            check: async () => ({
              checks: { list: 'ok', write: 'ok', read: 'ok', delete: 'ok' }
            }),
            close: () => {}
          }
        }
      ]
    });
    const res = await app.inject({
      url: `${BASE}${Routes.health}`,
      headers: AUTH
    });
    expect(res.statusCode).toBe(200);
    const health = HealthSchema.parse(res.json());
    expect(health.status).toBe('down');
    expect(health.version).toBe('9.9.9');
    expect(health.components.map(c => [c.name, c.kind, c.status])).toEqual([
      ['hub', 'hub', 'ok'],
      ['cluster:demo', 'cluster', 'down'],
      ['s3:demo', 's3', 'ok']
    ]);
    expect(health.components[1]?.checks).toEqual({
      ssh: 'ok',
      slurmctld: 'down'
    });
    expect(health.components[1]?.detail).toMatch(/DOWN/);
    await app.close();
  });

  it('says degraded, with the cause, for a store that lists but cannot store objects', async () => {
    const { app } = await testApp({
      s3: [
        {
          name: 'wedged',
          port: {
            check: async () => ({
              checks: { list: 'ok', write: 'down' },
              detail:
                'write of a small object in hpc-project failed: HTTP 503: Please reduce your request rate.'
            }),
            close: () => {}
          }
        }
      ]
    });
    const health = HealthSchema.parse(
      (
        await app.inject({ url: `${BASE}${Routes.health}`, headers: AUTH })
      ).json()
    );
    expect(health.status).toBe('degraded');
    expect(health.components.find(c => c.name === 's3:wedged')).toMatchObject({
      status: 'degraded',
      checks: { list: 'ok', write: 'down' },
      detail: expect.stringMatching(/write of a small object .* 503/)
    });
    await app.close();
  });

  it('times out a hanging backend instead of hanging the request', async () => {
    const { app } = await testApp({
      backendTimeoutMs: 50,
      s3: [
        {
          name: 'slow',
          port: { check: () => new Promise(() => undefined), close: () => {} }
        }
      ]
    });
    const res = await app.inject({
      url: `${BASE}${Routes.health}`,
      headers: AUTH
    });
    const s3 = HealthSchema.parse(res.json()).components.find(
      c => c.name === 's3:slow'
    );
    expect(s3).toMatchObject({
      status: 'down',
      detail: 'no answer within 50 ms'
    });
    await app.close();
  });
});

describe('paths inside a tier', () => {
  test.each([
    ['a/b.txt', true],
    ['😀/données.csv', true],
    ['x'.repeat(255), true],
    ['é'.repeat(127), true],
    ['../etc/passwd', false],
    ['a//b', false],
    ['/abs', false],
    ['x'.repeat(256), false],
    // 128 two-byte characters: 256 bytes, over NAME_MAX though only 128 characters.
    ['é'.repeat(128), false],
    ['\udfff\ud800', false],
    ['a\ud83d', false]
  ])('%j is accepted: %s', (path, ok) => {
    expect(TierPathSchema.safeParse(path).success).toBe(ok);
  });
});

describe('docs/api.md, Errors', () => {
  it('lists every error code of the contract with its status', () => {
    const doc = readFileSync(
      join(__dirname, '..', '..', '..', 'docs', 'api.md'),
      'utf8'
    );
    const section = doc.slice(doc.indexOf('\n## Errors'));
    const rows = [...section.matchAll(/^\| (\d{3}) +\| `([a-z_]+)` /gm)].map(
      m => `${m[2]} ${m[1]}`
    );
    for (const code of ErrorCodeSchema.options) {
      expect(rows).toContain(`${code} ${statusOf(code)}`);
    }
    expect(
      rows.every(r => ErrorCodeSchema.safeParse(r.split(' ')[0]).success)
    ).toBe(true);
  });
});
