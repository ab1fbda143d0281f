/** The jobs routes, service and poller against in-memory cluster fakes (no SLURM here). */
import { request } from 'node:http';
import { testStore } from './test-store';
import {
  ErrorBodySchema,
  JobListSchema,
  JobSchema,
  SshCredentialSchema,
  type Job,
  type JobOutput,
  type JobSubmit
} from '../../src/contract';
import type { IJobRecord } from '../../src/jobs/repository/jobs';
import { JobEvents } from '../../src/jobs/events';
import { JobPoller } from '../../src/jobs/poller';
import { JobService } from '../../src/jobs/service';
import { Store } from '../../src/store';
import {
  BASE,
  BRIDGE_SCOPE,
  CPU_SMALL_PROFILE,
  HUB_USERS,
  testApp
} from './app-fixture';
import { FakeCluster, fakeAccess, queueRecord } from './job-fakes';
import type { BridgeApp } from '../../src/app';
import { demoConfig } from './demo-config';
import {
  CourseTable,
  type IJobProfileShare
} from '../../src/courses/repository/courses';
import { sshBatchScripts } from '../../src/adapters/ssh/scripts';

HUB_USERS['admin-token'] = {
  kind: 'user',
  name: 'admin',
  admin: true,
  groups: [],
  scopes: [BRIDGE_SCOPE, 'access:servers!user=admin']
};
HUB_USERS['bob-token'] = {
  kind: 'user',
  name: 'bob',
  admin: false,
  groups: ['ml101'],
  scopes: [BRIDGE_SCOPE, 'access:servers!user=bob']
};

function config() {
  return demoConfig({ profiles: [CPU_SMALL_PROFILE] });
}

const NB = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [
    {
      cell_type: 'code',
      source: 'x = 1',
      metadata: { tags: ['parameters'] },
      outputs: [],
      execution_count: null
    },
    {
      cell_type: 'code',
      source: 'print(x * 2)',
      metadata: {},
      outputs: [],
      execution_count: null
    }
  ]
};

const REQUEST: JobSubmit = {
  name: 'test-job',
  notebook: {
    path: 'dir/a.ipynb',
    content: NB as JobSubmit['notebook']['content']
  },
  profile: 'cpu-small',
  parameters: { x: 21 }
};

const STAGED_OUTPUT: JobOutput = {
  uri: 'archive:results/{job}/',
  tier: 'archive',
  path: 'results/j1',
  folder: true,
  element: 0,
  estimateBytes: null,
  stageOut: 'done'
};

interface IHarness {
  app: BridgeApp;
  cluster: FakeCluster;
  store: Store;
  poller: JobPoller;
  events: JobEvents;
  webhooks: unknown[];
}

async function harness(
  streams: { sseMaxBufferedBytes?: number } = {},
  onEnded?: (rec: IJobRecord) => Promise<Job>
): Promise<IHarness> {
  const cfg = config();
  const store = testStore();
  const cluster = new FakeCluster();
  const access = fakeAccess(cluster);
  const events = new JobEvents();
  const logger = {
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    debug: () => undefined
  };
  const service: JobService = new JobService({
    config: cfg,
    store,
    access,
    scripts: sshBatchScripts,
    events,
    logger,
    refresh: async () => poller.refresh()
  });
  const webhooks: unknown[] = [];
  const poller: JobPoller = new JobPoller({
    cluster: 'demo',
    queue: cluster.queuePort(),
    table: service.table,
    access,
    events,
    logger,
    intervalMs: 1000,
    ...(onEnded === undefined ? {} : { onEnded }),
    webhooks: {
      allowPrivateNetworks: false,
      // example.org as DNS would answer; no network in unit tests.
      lookup: async () => ['93.184.215.14'],
      send: async (_target, body) => {
        webhooks.push(JSON.parse(body));
        return 200;
      }
    }
  });
  const { app } = await testApp({
    config: cfg,
    store,
    close: async () => store.close(),
    jobs: { service, access, events, pingMs: 50, ...streams }
  });
  return { app, cluster, store, poller, events, webhooks };
}

const auth = (token: string) => ({ authorization: `token ${token}` });

/** The state of job ID as the store holds it. */
function storedState(h: IHarness, id: string): string {
  const row = h.store.db
    .prepare('SELECT job FROM jobs WHERE id = ?')
    .get(id) as {
    job: string;
  };
  return JobSchema.parse(JSON.parse(row.job)).state;
}

async function post(h: IHarness, path: string, token: string, body?: unknown) {
  return h.app.inject({
    method: 'POST',
    url: `${BASE}${path}`,
    headers: auth(token),
    ...(body === undefined ? {} : { payload: body as object })
  });
}

describe('POST /jobs', () => {
  it('writes the working directory, submits as the user and records the job', async () => {
    const h = await harness();
    const res = await post(h, '/api/v1/jobs', 'alice-token', REQUEST);
    expect(res.statusCode).toBe(201);
    const job = JobSchema.parse(res.json());
    expect(job).toMatchObject({
      owner: 'alice',
      state: 'SUBMITTED',
      slurmId: '100',
      partition: 'cpu',
      isArray: false
    });
    expect(job.resources).toEqual({
      timeMinutes: 10,
      cpus: 1,
      memoryMB: 500,
      gpus: 0
    });
    expect(job.id).toMatch(/^[0-9a-f]{12}$/);
    const wd = `/home/alice/.hpc-bridge/jobs/${job.id}`;
    expect(h.cluster.submitted).toEqual([
      { script: `${wd}/job.sbatch`, workdir: wd, user: 'alice' }
    ]);
    expect([...h.cluster.files.keys()].sort()).toEqual(
      [`${wd}/inputs/0.ipynb`, `${wd}/job.sbatch`, `${wd}/runner.py`].sort()
    );
    const input = JSON.parse(
      h.cluster.files.get(`${wd}/inputs/0.ipynb`)!.toString()
    ) as { cells: { source: unknown }[] };
    expect(JSON.stringify(input.cells)).toContain('x = 21');
    expect(h.store.auditLog()[0]).toMatchObject({
      user: 'alice',
      action: 'job.submit',
      target: job.id
    });
    await h.app.close();
  });

  it('rejects resources outside the profile, unknown profiles and webhooks to itself', async () => {
    const h = await harness();
    const big = await post(h, '/api/v1/jobs', 'alice-token', {
      ...REQUEST,
      resources: { cpus: 8, memoryMB: 1 }
    });
    expect(big.statusCode).toBe(400);
    expect(ErrorBodySchema.parse(big.json()).error.details).toEqual([
      { field: 'cpus', value: 8, min: 1, max: 2 }
    ]);
    expect(
      (
        await post(h, '/api/v1/jobs', 'alice-token', {
          ...REQUEST,
          profile: 'nope'
        })
      ).statusCode
    ).toBe(400);
    const hook = await post(h, '/api/v1/jobs', 'alice-token', {
      ...REQUEST,
      webhookUrl: 'http://127.0.0.1:8000/services/hpc-bridge/api/v1/jobs'
    });
    expect(hook.statusCode).toBe(400);
    expect(h.cluster.submitted).toHaveLength(0);
    await h.app.close();
  });

  it('refuses a notebook whose kernel the profile does not offer, naming those it does', async () => {
    const h = await harness();
    const profiles = (
      await h.app.inject({
        url: `${BASE}/api/v1/profiles`,
        headers: auth('alice-token')
      })
    ).json() as { profiles: { name: string; kernels?: string[] }[] };
    expect(profiles.profiles[0]?.kernels).toEqual(['python3']);

    const res = await post(h, '/api/v1/jobs', 'alice-token', {
      ...REQUEST,
      notebook: {
        ...REQUEST.notebook,
        content: {
          ...NB,
          metadata: {
            kernelspec: { name: 'ir', display_name: 'R', language: 'R' },
            language_info: { name: 'R' }
          }
        }
      }
    });
    expect(res.statusCode).toBe(400);
    const err = ErrorBodySchema.parse(res.json()).error;
    expect(err.message).toBe(
      "The notebook needs the kernel ir, but profile cpu-small runs notebooks with python3 only; switch the notebook's kernel or pick a profile that offers it"
    );
    expect(err.details).toEqual({
      kernel: 'ir',
      language: 'R',
      kernels: ['python3']
    });
    expect(h.cluster.submitted).toHaveLength(0);
    expect(h.cluster.files.size).toBe(0);
    await h.app.close();
  });

  it('answers 412 cluster_auth_failed with the key to install when the cluster refuses it', async () => {
    const h = await harness();
    h.cluster.refuse.add('alice');
    const res = await post(h, '/api/v1/jobs', 'alice-token', REQUEST);
    expect(res.statusCode).toBe(412);
    const err = ErrorBodySchema.parse(res.json()).error;
    expect(err.code).toBe('cluster_auth_failed');
    expect(SshCredentialSchema.parse(err.details).publicKey).toBe(
      'ssh-ed25519 AAAA alice'
    );
    await h.app.close();
  });
});

describe('ownership', () => {
  it('hides jobs of others (404), lets admins see all, and acts as the owner', async () => {
    const h = await harness();
    const job = JobSchema.parse(
      (await post(h, '/api/v1/jobs', 'alice-token', REQUEST)).json()
    );
    const get = (token: string, path: string) =>
      h.app.inject({
        method: 'GET',
        url: `${BASE}${path}`,
        headers: auth(token)
      });

    expect((await get('bob-token', `/api/v1/jobs/${job.id}`)).statusCode).toBe(
      404
    );
    expect(
      JobListSchema.parse((await get('bob-token', '/api/v1/jobs')).json()).jobs
    ).toEqual([]);
    expect((await get('bob-token', '/api/v1/jobs?all=true')).statusCode).toBe(
      403
    );
    expect(
      (await post(h, `/api/v1/jobs/${job.id}/cancel`, 'bob-token')).statusCode
    ).toBe(404);
    expect(h.cluster.actions).toEqual([]);

    expect(
      JobListSchema.parse(
        (await get('admin-token', '/api/v1/jobs?all=true')).json()
      ).jobs
    ).toHaveLength(1);
    expect(
      (await post(h, `/api/v1/jobs/${job.id}/hold`, 'admin-token')).statusCode
    ).toBe(200);
    expect(h.cluster.actions).toEqual(['alice:hold:100']);
    expect(h.store.auditLog()[0]).toMatchObject({
      user: 'admin',
      action: 'job.hold',
      target: job.id
    });

    const again = await post(
      h,
      `/api/v1/jobs/${job.id}/resubmit`,
      'alice-token'
    );
    expect(again.statusCode).toBe(201);
    expect(JobSchema.parse(again.json()).resubmittedFrom).toBe(job.id);
    await h.app.close();
  });
});

describe('cancel, hold and release', () => {
  const accountingDone = (key: string) => ({
    key,
    state: 'COMPLETED',
    reason: null,
    node: 'node1',
    exitCode: '0:0',
    elapsedSeconds: 5,
    startTime: 1,
    endTime: 6,
    maxRssMB: 1
  });

  it('answers the job as the queue shows it after the action', async () => {
    const h = await harness();
    const job = JobSchema.parse(
      (
        await post(h, '/api/v1/jobs', 'alice-token', {
          ...REQUEST,
          webhookUrl: 'https://example.org/hook'
        })
      ).json()
    );
    h.cluster.queue = [queueRecord('100', 'PENDING', { reason: 'Priority' })];
    await h.poller.tick();

    const held = await post(h, `/api/v1/jobs/${job.id}/hold`, 'alice-token');
    expect(held.statusCode).toBe(200);
    expect(JobSchema.parse(held.json())).toMatchObject({
      state: 'PENDING',
      elements: [{ reason: 'JobHeldUser' }]
    });
    const released = await post(
      h,
      `/api/v1/jobs/${job.id}/release`,
      'alice-token'
    );
    expect(JobSchema.parse(released.json()).elements[0]?.reason).toBeNull();

    const seen: string[] = [];
    h.events.subscribe(j => seen.push(j.state));
    const cancelled = await post(
      h,
      `/api/v1/jobs/${job.id}/cancel`,
      'alice-token'
    );
    expect(cancelled.statusCode).toBe(200);
    expect(JobSchema.parse(cancelled.json()).state).toBe('CANCELLED');
    expect(storedState(h, job.id)).toBe('CANCELLED');
    expect(seen).toEqual(['CANCELLED']);
    expect(h.cluster.actions).toEqual([
      'alice:hold:100',
      'alice:release:100',
      'alice:cancel:100'
    ]);
    await new Promise(r => setTimeout(r, 10));
    expect(h.webhooks).toEqual([
      expect.objectContaining({ id: job.id, state: 'CANCELLED' })
    ]);
    await h.app.close();
  });

  it('refuses every action on a finished job with 409, without asking SLURM', async () => {
    const h = await harness();
    const job = JobSchema.parse(
      (await post(h, '/api/v1/jobs', 'alice-token', REQUEST)).json()
    );
    h.cluster.accounting = [accountingDone('100')];
    await h.poller.tick();
    expect(storedState(h, job.id)).toBe('COMPLETED');
    const auditRows = h.store.auditLog().length;

    for (const action of ['cancel', 'hold', 'release']) {
      for (const token of ['alice-token', 'admin-token']) {
        const res = await post(h, `/api/v1/jobs/${job.id}/${action}`, token);
        expect({ action, status: res.statusCode }).toEqual({
          action,
          status: 409
        });
        const err = ErrorBodySchema.parse(res.json()).error;
        expect(err.code).toBe('conflict');
        expect(err.message).toBe(
          `Job ${job.id} has already ended (COMPLETED); there is nothing to ${action}`
        );
      }
    }
    expect(h.cluster.actions).toEqual([]);
    expect(h.store.auditLog()).toHaveLength(auditRows);
    await h.app.close();
  });
});

describe('poller', () => {
  it('stores every change of a tick before it emits the first event', async () => {
    const h = await harness();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        JobSchema.parse(
          (await post(h, '/api/v1/jobs', 'alice-token', REQUEST)).json()
        ).id
      );
    }
    h.cluster.queue = ['100', '101', '102'].map(k =>
      queueRecord(k, 'PENDING', { reason: 'Priority' })
    );
    const storedAtFirstEvent: string[] = [];
    h.events.subscribe(() => {
      if (storedAtFirstEvent.length === 0) {
        storedAtFirstEvent.push(...ids.map(id => storedState(h, id)));
      }
    });
    await h.poller.tick();
    expect(storedAtFirstEvent).toEqual(['PENDING', 'PENDING', 'PENDING']);
    await h.app.close();
  });

  it('makes one squeue per tick, none without active jobs, and follows a job to the end', async () => {
    // The stage-out's view of the ended job is what the webhook receives.
    const h = await harness({}, async rec => ({
      ...rec.job,
      outputs: [STAGED_OUTPUT]
    }));
    await h.poller.tick();
    expect(h.cluster.queueCalls).toBe(0);

    const seen: string[] = [];
    h.events.subscribe(j => seen.push(j.state));
    const job = JobSchema.parse(
      (
        await post(h, '/api/v1/jobs', 'alice-token', {
          ...REQUEST,
          webhookUrl: 'https://example.org/hook'
        })
      ).json()
    );
    const wd = `/home/alice/.hpc-bridge/jobs/${job.id}`;
    h.cluster.queue = [
      queueRecord('100', 'PENDING', { reason: 'Priority' }),
      queueRecord('99', 'PENDING', { priority: 5 })
    ];
    await h.poller.tick();
    h.cluster.queue = [queueRecord('100', 'RUNNING')];
    h.cluster.files.set(
      `${wd}/progress/0.json`,
      Buffer.from('{"cell": 1, "of": 3}')
    );
    await h.poller.tick();
    const running = h.store.db.prepare('SELECT job FROM jobs').get() as {
      job: string;
    };
    expect(JSON.parse(running.job)).toMatchObject({
      state: 'RUNNING',
      elements: [{ node: 'node1', progress: { cell: 1, of: 3 } }]
    });
    await h.poller.tick(); // nothing changed: no event
    h.cluster.queue = [];
    h.cluster.accounting = [
      {
        key: '100',
        state: 'COMPLETED',
        reason: null,
        node: 'node1',
        exitCode: '0:0',
        elapsedSeconds: 9,
        startTime: 1,
        endTime: 10,
        maxRssMB: 12.5
      }
    ];
    h.cluster.files.set(
      `${wd}/progress/0.json`,
      Buffer.from('{"cell": 3, "of": 3}')
    );
    await h.poller.tick();
    expect(h.cluster.queueCalls).toBe(4);
    expect(h.cluster.accountingCalls).toEqual([['100']]);
    expect(seen).toEqual(['SUBMITTED', 'PENDING', 'RUNNING', 'COMPLETED']);
    const done = JobSchema.parse(
      (
        await h.app.inject({
          method: 'GET',
          url: `${BASE}/api/v1/jobs/${job.id}`,
          headers: auth('alice-token')
        })
      ).json()
    );
    expect(done.elements[0]).toMatchObject({
      state: 'COMPLETED',
      exitCode: '0:0',
      maxRssMB: 12.5,
      progress: { cell: 3, of: 3 }
    });
    await h.poller.tick();
    expect(h.cluster.queueCalls).toBe(4); // no active jobs left
    await new Promise(r => setTimeout(r, 10));
    expect(h.webhooks).toEqual([
      expect.objectContaining({
        id: job.id,
        state: 'COMPLETED',
        outputs: [STAGED_OUTPUT]
      })
    ]);
    await h.app.close();
  });

  it("carries the runner's error of a failed cell into the element and the job", async () => {
    const h = await harness();
    const job = JobSchema.parse(
      (
        await post(h, '/api/v1/jobs', 'alice-token', {
          ...REQUEST,
          sweep: { x: [1, 2] }
        })
      ).json()
    );
    const wd = `/home/alice/.hpc-bridge/jobs/${job.id}`;
    h.cluster.queue = [
      queueRecord('100_0', 'RUNNING'),
      queueRecord('100_1', 'RUNNING')
    ];
    await h.poller.tick();
    h.cluster.queue = [
      queueRecord('100_0', 'COMPLETED'),
      queueRecord('100_1', 'FAILED', { exitStatus: 256 })
    ];
    h.cluster.files.set(
      `${wd}/progress/0.json`,
      Buffer.from('{"cell": 3, "of": 3}')
    );
    const boom = { ename: 'ValueError', evalue: 'boom', cell: 2 };
    h.cluster.files.set(
      `${wd}/progress/1.json`,
      Buffer.from(JSON.stringify({ cell: 1, of: 3, error: boom }))
    );
    const events: unknown[] = [];
    h.events.subscribe(j => events.push(j));
    await h.poller.tick();

    const res = await h.app.inject({
      method: 'GET',
      url: `${BASE}/api/v1/jobs/${job.id}`,
      headers: auth('alice-token')
    });
    const done = JobSchema.parse(res.json());
    expect(done.state).toBe('FAILED');
    expect(done.error).toEqual(boom);
    expect(done.elements.map(e => [e.state, e.progress, e.error])).toEqual([
      ['COMPLETED', { cell: 3, of: 3 }, null],
      ['FAILED', { cell: 1, of: 3 }, boom]
    ]);
    expect(events).toEqual([expect.objectContaining({ error: boom })]);
    await h.app.close();
  });

  it('queue position comes from pending jobs of the partition by priority', async () => {
    const h = await harness();
    const job = JobSchema.parse(
      (await post(h, '/api/v1/jobs', 'alice-token', REQUEST)).json()
    );
    h.cluster.queue = [
      queueRecord('100', 'PENDING'),
      queueRecord('99', 'PENDING', { priority: 5 })
    ];
    await h.poller.tick();
    const res = await h.app.inject({
      method: 'GET',
      url: `${BASE}/api/v1/jobs/${job.id}`,
      headers: auth('alice-token')
    });
    expect(JobSchema.parse(res.json()).queuePosition).toBe(2);
    await h.app.close();
  });
});

describe('log, output and events', () => {
  it('serves the log as text, the output notebook, and 404 before there is one', async () => {
    const h = await harness();
    const job = JobSchema.parse(
      (await post(h, '/api/v1/jobs', 'alice-token', REQUEST)).json()
    );
    const wd = `/home/alice/.hpc-bridge/jobs/${job.id}`;
    const get = (path: string) =>
      h.app.inject({
        method: 'GET',
        url: `${BASE}${path}`,
        headers: auth('alice-token')
      });
    const missing = await get(`/api/v1/jobs/${job.id}/output`);
    expect(missing.statusCode).toBe(404);
    expect(ErrorBodySchema.parse(missing.json()).error.message).toMatch(
      /not produced an output notebook yet/
    );
    h.cluster.files.set(
      `${wd}/outputs/0.ipynb`,
      Buffer.from(JSON.stringify(NB))
    );
    expect((await get(`/api/v1/jobs/${job.id}/output`)).json()).toEqual(NB);
    h.cluster.files.set(`${wd}/logs/0.err`, Buffer.from('line 1\nline 2\n'));
    const log = await get(`/api/v1/jobs/${job.id}/log?stream=stderr&tail=7`);
    expect(log.statusCode).toBe(200);
    expect(log.headers['content-type']).toMatch(/^text\/plain/);
    expect(log.body).toBe('line 2\n');
    expect((await get(`/api/v1/jobs/${job.id}/log?element=5`)).statusCode).toBe(
      404
    );
    await h.app.close();
  });

  it('streams job events to the owner and admins only', async () => {
    const h = await harness();
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const address = h.app.server.address();
    const port =
      typeof address === 'object' && address !== null ? address.port : 0;
    const read = async (token: string) => {
      const ac = new AbortController();
      const res = await fetch(`http://127.0.0.1:${port}${BASE}/api/v1/events`, {
        headers: auth(token),
        signal: ac.signal
      });
      return { res, ac, reader: res.body!.getReader() };
    };
    const alice = await read('alice-token');
    const bob = await read('bob-token');
    expect(alice.res.headers.get('content-type')).toMatch(
      /^text\/event-stream/
    );
    expect(alice.res.headers.get('cache-control')).toBe('no-cache');
    expect(alice.res.headers.get('x-accel-buffering')).toBe('no');
    await post(h, '/api/v1/jobs', 'alice-token', REQUEST);
    const text = async (
      r: ReadableStreamDefaultReader<Uint8Array>,
      until: RegExp
    ) => {
      let out = '';
      while (!until.test(out)) {
        const { value, done } = await r.read();
        if (done) {
          break;
        }
        out += new TextDecoder().decode(value);
      }
      return out;
    };
    expect(await text(alice.reader, /event: job/)).toMatch(/"owner":"alice"/);
    // bob gets pings only (pingMs 50 in this harness), never alice's job.
    const bobText = await text(bob.reader, /(event: ping[\s\S]*){3}/);
    expect(bobText).not.toContain('event: job');
    expect(h.events.listenerCount()).toBe(2);
    alice.ac.abort();
    bob.ac.abort();
    // The server sees the sockets close when the event loop gets to it: poll, not wait.
    for (let i = 0; i < 500 && h.events.listenerCount() > 0; i++) {
      await new Promise(r => setTimeout(r, 20));
    }
    expect(h.events.listenerCount()).toBe(0);
    await h.app.close();
    // Real sockets and fetch's connection pool: seconds on a loaded 2-core machine.
  }, 30_000);

  it('drops a stream whose client stops reading, and only that one', async () => {
    const h = await harness({ sseMaxBufferedBytes: 64 * 1024 });
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const address = h.app.server.address();
    const port =
      typeof address === 'object' && address !== null ? address.port : 0;
    const open = (onData: (chunk: Buffer) => void) =>
      new Promise<{
        closed: Promise<void>;
        pause: () => void;
        resume: () => void;
      }>(resolve => {
        const req = request(
          `http://127.0.0.1:${port}${BASE}/api/v1/events`,
          { headers: auth('alice-token') },
          res => {
            res.on('data', onData);
            resolve({
              closed: new Promise(done => res.on('close', () => done())),
              pause: () => {
                res.pause();
                req.socket?.pause();
              },
              resume: () => {
                req.socket?.resume();
                res.resume();
              }
            });
          }
        );
        req.on('error', () => undefined);
        req.end();
      });
    let readerBytes = 0;
    const reader = await open(c => (readerBytes += c.length));
    const stalled = await open(() => undefined);
    stalled.pause();
    expect(h.events.listenerCount()).toBe(2);
    // Large events, until the stalled client's buffer in the bridge passes the limit.
    const job = JobSchema.parse(
      (await post(h, '/api/v1/jobs', 'alice-token', REQUEST)).json()
    );
    const big = { ...job, name: 'x'.repeat(60_000) };
    for (let i = 0; i < 400 && h.events.listenerCount() === 2; i++) {
      h.events.emit({ ...big, updatedAt: new Date().toISOString() });
      await new Promise(r => setImmediate(r));
    }
    expect(h.events.listenerCount()).toBe(1);
    // Reading again, the stalled client sees the bridge closed its stream.
    stalled.resume();
    await stalled.closed;
    const before = readerBytes;
    h.events.emit(job);
    await new Promise(r => setTimeout(r, 50));
    expect(readerBytes).toBeGreaterThan(before);
    await h.app.close();
    await reader.closed;
  });
});

describe('a course job profile', () => {
  /** ml101 with a job profile on cpu-small: one active job per student, 1 GPU-hour. */
  function shareProfile(h: IHarness, limits: Partial<IJobProfileShare> = {}) {
    new CourseTable(h.store).put({
      name: 'ml101',
      title: 'Machine learning 101',
      endpoint: null,
      dataset: null,
      jobProfile: {
        baseProfile: 'cpu-small',
        reservation: null,
        maxActiveJobs: 1,
        gpuHoursBudget: null,
        kernel: false,
        ...limits
      },
      assistant: { completion: false, chat: false },
      updatedBy: 'carol',
      updatedAt: '2026-12-06T00:00:00.000Z'
    });
  }
  const COURSE_JOB: JobSubmit = { ...REQUEST, profile: 'course:ml101' };

  it('is offered to the course members with its limits, and to no one else', async () => {
    const h = await harness();
    shareProfile(h);
    const names = async (token: string) =>
      (
        (
          await h.app.inject({
            url: `${BASE}/api/v1/profiles`,
            headers: auth(token)
          })
        ).json() as { profiles: { name: string; description?: string }[] }
      ).profiles;
    const offered = (await names('alice-token')).find(
      p => p.name === 'course:ml101'
    );
    expect(offered?.description).toMatch(
      /at most 1 queued or running per student/
    );
    expect((await names('carol-token')).map(p => p.name)).not.toContain(
      'course:ml101'
    );
    const outsider = await post(h, '/api/v1/jobs', 'carol-token', COURSE_JOB);
    expect(outsider.statusCode).toBe(403);
    await h.app.close();
  });

  it('refuses a second active job per student with 429 and the rule, per student', async () => {
    const h = await harness();
    shareProfile(h);
    const first = await post(h, '/api/v1/jobs', 'alice-token', COURSE_JOB);
    expect(first.statusCode).toBe(201);
    const job = JobSchema.parse(first.json());
    expect(job.partition).toBe('cpu');

    const second = await post(h, '/api/v1/jobs', 'alice-token', COURSE_JOB);
    expect(second.statusCode).toBe(429);
    const refused = ErrorBodySchema.parse(second.json()).error;
    expect(refused.code).toBe('course_limit');
    expect(refused.message).toContain(job.id);
    expect(refused.details).toMatchObject({
      rule: 'maxActiveJobs',
      limit: 1,
      activeJobIds: [job.id]
    });
    // Nothing reached the cluster for the refused submit; bob has his own allowance.
    expect(h.cluster.submitted).toHaveLength(1);
    const bobs = await post(h, '/api/v1/jobs', 'bob-token', COURSE_JOB);
    expect(bobs.statusCode).toBe(201);

    // Once alice's job has ended, she may submit again.
    h.cluster.queue = [];
    h.cluster.accounting = [
      {
        key: job.slurmId!,
        state: 'COMPLETED',
        reason: null,
        node: 'node1',
        exitCode: '0:0',
        elapsedSeconds: 5,
        startTime: 1,
        endTime: 6,
        maxRssMB: 1
      }
    ];
    await h.poller.tick();
    expect(storedState(h, job.id)).toBe('COMPLETED');
    const again = await post(h, '/api/v1/jobs', 'alice-token', COURSE_JOB);
    expect(again.statusCode).toBe(201);
    await h.app.close();
  });
});
