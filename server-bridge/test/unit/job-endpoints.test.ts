/**
 * Jobs that declare the endpoints they call: a key per endpoint made at submit (and
 * revoked when the submit fails or the job ends), the 0600 file the batch script sources,
 * refusals of endpoints that are not the user's, and the calls lineage answers.
 */
import { sshBatchScripts } from '../../src/adapters/ssh/scripts';
import type { IAuthUser } from '../../src/auth/decide';
import {
  JobSubmitSchema,
  LineageSchema,
  type JobSubmit,
  type LineageRecord
} from '../../src/contract';
import { DomainError } from '../../src/domain-error';
import { JobKeys } from '../../src/endpoints/job-keys';
import { EndpointKeys } from '../../src/endpoints/keys';
import { EndpointUsage } from '../../src/endpoints/usage';
import { JobEvents } from '../../src/jobs/events';
import {
  envStem,
  jobEndpointEnv,
  resolveJobEndpoints
} from '../../src/jobs/job-endpoints';
import { JobPoller } from '../../src/jobs/poller';
import { JobService } from '../../src/jobs/service';
import { LineageTable } from '../../src/lineage/repository/lineage';
import { LineageService } from '../../src/lineage/service';
import type { StorageService } from '../../src/storage/service';
import { testStore } from './test-store';
import { CPU_SMALL_PROFILE, PRINT_NOTEBOOK } from './app-fixture';
import { demoConfig } from './demo-config';
import {
  controllerFixture,
  createEndpoint,
  FakeClock
} from './endpoints-fakes';
import { FakeCluster, fakeAccess, queueRecord } from './job-fakes';

const alice: IAuthUser = {
  name: 'alice',
  admin: false,
  groups: ['ml101'],
  roles: ['researcher'],
  instructorOf: []
};
const bob: IAuthUser = { ...alice, name: 'bob' };

function request(endpoints?: string[]): JobSubmit {
  return JobSubmitSchema.parse({
    name: 'calls',
    notebook: { path: 'a.ipynb', content: PRINT_NOTEBOOK },
    profile: 'cpu-small',
    ...(endpoints === undefined ? {} : { endpoints })
  });
}

const GATEWAY = 'http://hub.example/services/hpc-bridge/v1';
const logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined
};

function harness() {
  const store = testStore();
  const f = controllerFixture(undefined, store);
  createEndpoint(f, { id: 'e1' });
  createEndpoint(f, { id: 'e2' });
  createEndpoint(f, { id: 'e3', owner: 'bob' });
  const clock = new FakeClock();
  const now = () => clock.now();
  const keys = new EndpointKeys(store, now);
  const usage = new EndpointUsage(store, { now });
  const jobKeys = new JobKeys({
    table: f.table,
    keys,
    usage,
    gatewayUrl: GATEWAY
  });
  const cluster = new FakeCluster();
  const access = fakeAccess(cluster);
  const events = new JobEvents();
  const jobs = new JobService({
    config: demoConfig({ profiles: [CPU_SMALL_PROFILE] }),
    store,
    access,
    scripts: sshBatchScripts,
    events,
    logger,
    endpoints: jobKeys
  });
  const poller = new JobPoller({
    cluster: 'demo',
    queue: cluster.queuePort(),
    table: jobs.table,
    access,
    events,
    logger,
    intervalMs: 1000,
    webhooks: { allowPrivateNetworks: false },
    onEnded: async rec => {
      jobKeys.revoke(rec.job.id);
      return rec.job;
    }
  });
  return { store, f, clock, keys, usage, jobKeys, cluster, jobs, poller };
}

/** The value of `export NAME=value` (quoted or not) in a rendered secrets file. */
function exported(file: string, name: string): string | undefined {
  const m = new RegExp(`^export ${name}=(?:'([^']*)'|([^'\\s]+))$`, 'm').exec(
    file
  );
  return m?.[1] ?? m?.[2];
}

describe('a job that declares endpoints', () => {
  it('gets a key per endpoint in a 0600 file the script sources, never in the script', async () => {
    const h = harness();
    const job = await h.jobs.submit(alice, request(['chat-e1', 'e2']));
    expect(job.endpoints).toEqual([
      { id: 'e1', name: 'chat-e1', env: 'CHAT_E1' },
      { id: 'e2', name: 'chat-e2', env: 'CHAT_E2' }
    ]);
    const workdir = h.cluster.submitted[0]?.workdir ?? '';
    const envPath = `${workdir}/endpoints.env`;
    expect(h.cluster.modes.get(envPath)).toBe(0o600);
    const file = h.cluster.files.get(envPath)?.toString('utf8') ?? '';
    const key1 = exported(file, 'HPCB_ENDPOINT_CHAT_E1_KEY') ?? '';
    const key2 = exported(file, 'HPCB_ENDPOINT_CHAT_E2_KEY') ?? '';
    expect(exported(file, 'HPCB_ENDPOINT_CHAT_E1_URL')).toBe(GATEWAY);
    expect(exported(file, 'OPENAI_BASE_URL')).toBe(GATEWAY);
    expect(exported(file, 'OPENAI_API_KEY')).toBe(key1);
    expect(h.keys.resolve(key1)?.endpointId).toBe('e1');
    expect(h.keys.resolve(key2)?.endpointId).toBe('e2');
    expect(h.keys.resolve(key1)?.owner).toBe('alice');
    const script = h.cluster.files.get(`${workdir}/job.sbatch`)?.toString();
    expect(script).toContain(`\n. ${envPath}\n`);
    expect(script).not.toContain('hpcb_');
    // The keys are the job's, named for it, and in the endpoint's key list as such.
    const listed = h.keys.list('e1');
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ jobId: job.id, name: `job ${job.id}` });
  });

  it('writes no file and makes no key when it declares none', async () => {
    const h = harness();
    await h.jobs.submit(alice, request());
    const workdir = h.cluster.submitted[0]?.workdir ?? '';
    expect(h.cluster.files.has(`${workdir}/endpoints.env`)).toBe(false);
    expect(
      h.cluster.files.get(`${workdir}/job.sbatch`)?.toString()
    ).not.toContain('endpoints.env');
    expect(h.keys.list('e1')).toEqual([]);
  });

  it('revokes the keys when the submit fails', async () => {
    const h = harness();
    h.cluster.refuse.add('alice');
    await expect(
      h.jobs.submit(alice, request(['chat-e1']))
    ).rejects.toMatchObject({ code: 'cluster_auth_failed' });
    const made = h.keys.list('e1');
    expect(made).toHaveLength(1);
    expect(made[0]?.revokedAt).not.toBeNull();
  });

  it('revokes the keys when the job ends: the gateway no longer takes them', async () => {
    const h = harness();
    const job = await h.jobs.submit(alice, request(['chat-e1']));
    const workdir = h.cluster.submitted[0]?.workdir ?? '';
    const file = h.cluster.files.get(`${workdir}/endpoints.env`)?.toString();
    const key = exported(file ?? '', 'OPENAI_API_KEY') ?? '';
    h.cluster.queue = [queueRecord(job.slurmId ?? '', 'RUNNING')];
    await h.poller.refresh();
    expect(h.keys.resolve(key)).not.toBeNull();
    h.cluster.queue = [queueRecord(job.slurmId ?? '', 'COMPLETED')];
    await h.poller.refresh();
    await new Promise(r => setImmediate(r));
    expect(h.jobs.table.get(job.id)?.job.state).toBe('COMPLETED');
    expect(h.keys.resolve(key)).toBeNull();
  });

  it('revokes at start the keys of jobs that ended while no poller saw them', async () => {
    const h = harness();
    const job = await h.jobs.submit(alice, request(['chat-e1']));
    const other = await h.jobs.submit(alice, request(['chat-e1']));
    h.jobs.table.update({ ...job, state: 'COMPLETED' });
    expect(h.jobKeys.revokeEnded()).toBe(1);
    expect(h.keys.ofJob(job.id)[0]?.revokedAt).not.toBeNull();
    expect(h.keys.ofJob(other.id)[0]?.revokedAt).toBeNull();
  });

  it("refuses another user's endpoint, an unknown one and a clash of variable names", async () => {
    const h = harness();
    // bob cannot see alice's private endpoint: 404, as for an unknown one.
    for (const ref of ['e1', 'chat-e1', 'nope']) {
      const e = await h.jobs.submit(bob, request([ref])).catch(x => x);
      expect(e).toBeInstanceOf(DomainError);
      expect(e).toMatchObject({ code: 'not_found' });
    }
    // shared with bob's group: visible, but only alice makes its keys.
    h.f.table.update({
      ...h.f.table.get('e1')!,
      visibility: 'group',
      group: 'ml101'
    });
    await expect(
      h.jobs.submit(bob, request(['chat-e1']))
    ).rejects.toMatchObject({ code: 'forbidden' });
    await expect(
      h.jobs.submit(alice, request(['chat-e1', 'e1']))
    ).rejects.toMatchObject({ code: 'bad_request' });
    expect(h.cluster.submitted).toHaveLength(0);
    expect(h.keys.list('e1')).toEqual([]);
    // bob's own endpoint works for bob.
    const job = await h.jobs.submit(bob, request(['chat-e3']));
    expect(job.endpoints?.[0]?.id).toBe('e3');
  });

  it('refuses declared endpoints on a bridge that serves none', () => {
    expect(() => resolveJobEndpoints(undefined, alice, ['x'])).toThrow(
      /serves no endpoints/
    );
    expect(resolveJobEndpoints(undefined, alice, undefined)).toEqual([]);
  });
});

describe('the variables of a job', () => {
  it('are named after the endpoint, the first one also for the OpenAI clients', () => {
    expect(envStem('llm-demo.v2')).toBe('LLM_DEMO_V2');
    const env = jobEndpointEnv(
      GATEWAY,
      [
        { id: 'a', name: 'llm-demo', env: 'LLM_DEMO' },
        { id: 'b', name: 'other', env: 'OTHER' }
      ],
      new Map([
        ['a', 'hpcb_a'],
        ['b', 'hpcb_b']
      ])
    );
    expect(env).toEqual({
      OPENAI_BASE_URL: GATEWAY,
      OPENAI_API_KEY: 'hpcb_a',
      HPCB_ENDPOINT_LLM_DEMO_URL: GATEWAY,
      HPCB_ENDPOINT_LLM_DEMO_KEY: 'hpcb_a',
      HPCB_ENDPOINT_OTHER_URL: GATEWAY,
      HPCB_ENDPOINT_OTHER_KEY: 'hpcb_b'
    });
    const file = sshBatchScripts.secretEnv({ A_KEY: "it's" });
    expect(file).toBe("export A_KEY='it'\\''s'\n");
    expect(() => sshBatchScripts.secretEnv({ 'A;rm': 'x' })).toThrow();
  });
});

describe('the calls of a job', () => {
  const record = (jobId: string): LineageRecord => ({
    tier: 'archive',
    path: 'results/out.txt',
    version: { size: 3, lastModified: null },
    job: {
      id: jobId,
      owner: 'alice',
      name: 'calls',
      element: 0,
      notebookPath: 'a.ipynb',
      notebookSha256: 'a'.repeat(64),
      parameters: {}
    },
    inputs: [],
    createdAt: '2026-12-01T00:00:00.000Z'
  });

  it('sums the usage rows of its keys per endpoint, and lineage answers them', async () => {
    const h = harness();
    const job = await h.jobs.submit(alice, request(['chat-e1', 'chat-e2']));
    const [k1] = h.keys.ofJob(job.id).filter(k => k.endpointId === 'e1');
    const start = h.clock.now();
    const call = (prompt: number, completion: number) =>
      h.usage.record({
        keyId: k1?.id ?? '',
        endpointId: 'e1',
        promptTokens: prompt,
        completionTokens: completion,
        latencyMs: 10,
        error: false
      });
    call(100, 20);
    h.clock.advance(3 * 60_000);
    call(200, 40);
    call(50, 2);
    // Another key of the same endpoint is not the job's.
    const own = h.keys.create('e1', 'alice', { name: 'laptop' }).record;
    h.usage.record({
      keyId: own.id,
      endpointId: 'e1',
      promptTokens: 999,
      completionTokens: 999,
      latencyMs: 1,
      error: false
    });
    const calls = h.jobKeys.calls(job.id);
    const minute = Math.floor(start / 60_000);
    expect(calls).toEqual([
      {
        endpointId: 'e1',
        endpoint: 'chat-e1',
        model: 'tiny-random',
        requests: 3,
        promptTokens: 350,
        completionTokens: 62,
        firstAt: new Date(minute * 60_000).toISOString(),
        lastAt: new Date((minute + 4) * 60_000).toISOString()
      },
      {
        endpointId: 'e2',
        endpoint: 'chat-e2',
        model: 'tiny-random',
        requests: 0,
        promptTokens: 0,
        completionTokens: 0,
        firstAt: null,
        lastAt: null
      }
    ]);
    expect(h.jobKeys.calls('not-a-job')).toBeNull();

    const table = new LineageTable(h.store);
    table.put({ record: record(job.id), scopeRoot: 'alice', inputs: [] });
    table.put({
      record: { ...record('other'), path: 'results/raw.txt' },
      scopeRoot: 'alice',
      inputs: []
    });
    const storage = {
      staging: {
        source: async (_u: unknown, tier: string, path: string) => ({
          tier,
          path,
          scopeKey: 'alice',
          scopeRoot: 'alice'
        })
      }
    } as unknown as StorageService;
    const lineage = new LineageService(table, storage, id =>
      h.jobKeys.calls(id)
    );
    const answer = LineageSchema.parse(
      await lineage.chain(alice, 'archive', 'results/out.txt')
    );
    expect(answer.records[0]?.job.calls?.[0]).toMatchObject({
      endpoint: 'chat-e1',
      requests: 3,
      promptTokens: 350,
      completionTokens: 62
    });
    const raw = await lineage.chain(alice, 'archive', 'results/raw.txt');
    expect(raw.records[0]?.job.calls).toBeUndefined();
  });
});
