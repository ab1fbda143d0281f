/**
 * Limits across bridge replicas: two services built as two replicas would build them,
 * over two Store objects opened on the same database file, share one gateway budget,
 * one rate, one course job limit and one storage quota.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { IAuthUser } from '../../src/auth/decide';
import { CourseJobGate } from '../../src/courses/job-gate';
import { CourseTable } from '../../src/courses/repository/courses';
import { DomainError } from '../../src/domain-error';
import { EndpointKeys } from '../../src/endpoints/keys';
import type { IKeyLimits } from '../../src/endpoints/repository/keys';
import { EndpointUsage, type Admission } from '../../src/endpoints/usage';
import { JobTable } from '../../src/jobs/repository/jobs';
import { Store } from '../../src/store';
import { jobOf } from './admin-helpers';
import { kernelConfig } from './kernel-fakes';
import { ALICE, storageFixture } from './storage-fakes';

const REQUESTS = 20;
const RESOURCES = { timeMinutes: 10, cpus: 1, memoryMB: 100, gpus: 0 };

let dir: string;
let stores: Store[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hpc-bridge-replicas-'));
  const file = join(dir, 'bridge.sqlite');
  stores = [new Store(file), new Store(file)];
});

afterEach(() => {
  for (const s of stores) {
    s.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

/** The two replicas' stores, by request number (requests alternate between them). */
const storeOf = (i: number): Store => stores[i % 2] as Store;

/** Runs `request` REQUESTS times, all at once or one after the other. */
async function requests<T>(
  mode: 'concurrent' | 'sequential',
  request: (i: number) => Promise<T>
): Promise<PromiseSettledResult<T>[]> {
  const ids = Array.from({ length: REQUESTS }, (_, i) => i);
  if (mode === 'concurrent') {
    return Promise.allSettled(ids.map(request));
  }
  const out: PromiseSettledResult<T>[] = [];
  for (const i of ids) {
    out.push(...(await Promise.allSettled([request(i)])));
  }
  return out;
}

const turn = (): Promise<void> => new Promise(r => setImmediate(r));

describe('a gateway key on two replicas', () => {
  const clock = { now: Date.parse('2026-01-10T12:00:30Z') };
  let usages: EndpointUsage[];
  let keyId: string;

  function keyWith(limits: IKeyLimits) {
    new EndpointKeys(storeOf(0)).setLimits(keyId, limits);
    return { keyId, endpointId: 'ep', owner: 'alice', limits };
  }

  beforeEach(() => {
    storeOf(0)
      .db.prepare(
        "INSERT INTO endpoints (id, owner, name, created_at, record) VALUES ('ep', 'alice', 'ep', '2026-01-01T00:00:00Z', '{}')"
      )
      .run();
    keyId = new EndpointKeys(storeOf(0)).create('ep', 'alice', { name: 'k' })
      .record.id;
    usages = stores.map(s => new EndpointUsage(s, { now: () => clock.now }));
  });

  afterEach(() => {
    for (const u of usages) {
      u.close();
    }
  });

  /** A request admitted for 10 tokens that costs 10 once it ends. */
  function request(key: ReturnType<typeof keyWith>) {
    return async (i: number): Promise<Admission> => {
      await turn();
      const usage = usages[i % 2] as EndpointUsage;
      const a = usage.admit(key, 10);
      if (!a.ok) {
        return a;
      }
      await turn();
      usage.record(
        {
          keyId,
          endpointId: 'ep',
          promptTokens: 4,
          completionTokens: 6,
          latencyMs: 5,
          error: false
        },
        a.reservation
      );
      return a;
    };
  }

  const admitted = (results: PromiseSettledResult<Admission>[]): number =>
    results.filter(r => r.status === 'fulfilled' && r.value.ok).length;

  it('never holds more than the token budget, whichever replica admits', async () => {
    const key = keyWith({ requestsPerMinute: null, tokenBudget: 95 });
    const results = await requests('concurrent', request(key));
    expect(admitted(results)).toBe(9);
    const refusals = results.flatMap(r =>
      r.status === 'fulfilled' && !r.value.ok ? [r.value] : []
    );
    expect(refusals).toHaveLength(11);
    expect(refusals[0]).toMatchObject({
      reason: 'budget',
      budget: 95,
      asked: 10
    });
    expect(usages[1]?.keyTokens(keyId)).toEqual({
      used: 90,
      reserved: 0,
      budget: 95
    });
  });

  it('admits exactly the budget when the requests come one after the other', async () => {
    const key = keyWith({ requestsPerMinute: null, tokenBudget: 100 });
    const results = await requests('sequential', request(key));
    expect(admitted(results)).toBe(10);
    expect(usages[0]?.keyTokens(keyId)).toEqual({
      used: 100,
      reserved: 0,
      budget: 100
    });
  });

  it.each(['concurrent', 'sequential'] as const)(
    'lets through the rate once per minute over both replicas (%s)',
    async mode => {
      const key = keyWith({ requestsPerMinute: 7, tokenBudget: null });
      const results = await requests(mode, request(key));
      expect(admitted(results)).toBe(7);
      const refused = results.find(
        r => r.status === 'fulfilled' && !r.value.ok
      );
      expect(refused).toEqual({
        status: 'fulfilled',
        value: { ok: false, reason: 'rate', limit: 7, retryAfterSeconds: 30 }
      });
      clock.now += 60_000;
      expect(admitted(await requests(mode, request(key)))).toBe(7);
      clock.now -= 60_000;
    }
  );

  it('gives a rate slot back when the budget refuses the request', () => {
    const key = keyWith({ requestsPerMinute: 2, tokenBudget: 15 });
    expect(usages[0]?.admit(key, 10).ok).toBe(true);
    expect(usages[1]?.admit(key, 10)).toMatchObject({ reason: 'budget' });
    expect(usages[1]?.admit(key, 5).ok).toBe(true);
  });
});

describe('a course job limit on two replicas', () => {
  const config = kernelConfig();
  const alice: IAuthUser = {
    ...ALICE,
    roles: [],
    instructorOf: [],
    admin: false
  };
  let gates: CourseJobGate[];

  beforeEach(() => {
    const [base] = config.profiles;
    if (base === undefined) {
      throw new Error('the demo configuration has no profile');
    }
    new CourseTable(storeOf(0)).put({
      name: 'ml101',
      title: null,
      endpoint: null,
      dataset: null,
      jobProfile: {
        baseProfile: base.name,
        reservation: null,
        maxActiveJobs: 3,
        gpuHoursBudget: null,
        kernel: false
      },
      assistant: { completion: false, chat: false },
      updatedBy: 'carol',
      updatedAt: '2026-01-10T12:00:00.000Z'
    });
    gates = stores.map(s => new CourseJobGate(s, config.profiles));
  });

  /** A submit: admitted, sent to the cluster (a turn of the event loop), then stored. */
  async function submit(i: number): Promise<string> {
    await turn();
    const gate = gates[i % 2] as CourseJobGate;
    const profile = gate.resolve(alice, 'course:ml101');
    const admission = gate.admit(alice, profile, RESOURCES, 1);
    const id = `job-${i}`;
    await admission.until(turn());
    const job = jobOf([], 1, 0, {
      id,
      profile: 'course:ml101',
      state: 'PENDING'
    });
    new JobTable(storeOf(i)).insert({
      job,
      workdir: `/home/alice/${id}`,
      clusterUser: 'alice',
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
    admission.recorded(id);
    return id;
  }

  it.each(['concurrent', 'sequential'] as const)(
    'admits exactly the active jobs allowed (%s)',
    async mode => {
      const results = await requests(mode, submit);
      const stored = results.flatMap(r =>
        r.status === 'fulfilled' ? [r.value] : []
      );
      expect(stored).toHaveLength(3);
      const refused = results.find(r => r.status === 'rejected');
      expect(refused?.status === 'rejected' && refused.reason).toBeInstanceOf(
        DomainError
      );
      expect(refused?.status === 'rejected' && refused.reason).toMatchObject({
        code: 'course_limit',
        details: { rule: 'maxActiveJobs', limit: 3 }
      });
      expect(gates[1]?.allowance('ml101', 'alice')).toMatchObject({
        activeJobIds: stored.sort(),
        jobsLeft: 0
      });
    }
  );

  it('frees the place of a submit that failed on the other replica', async () => {
    const profile = gates[0]?.resolve(alice, 'course:ml101') ?? null;
    const held = [0, 1, 2].map(i =>
      (gates[i % 2] as CourseJobGate).admit(alice, profile, RESOURCES, 1)
    );
    expect(() => gates[1]?.admit(alice, profile, RESOURCES, 1)).toThrow(
      /allows 3 queued or running jobs/
    );
    await expect(
      held[0]?.until(Promise.reject(new Error('sbatch failed')))
    ).rejects.toThrow('sbatch failed');
    expect(() => gates[1]?.admit(alice, profile, RESOURCES, 1)).not.toThrow();
  });
});

describe('a storage quota on two replicas', () => {
  const SIZE = 120;

  /** A write of SIZE bytes to its own file of the `ml101` project folder (quota 500). */
  function write(services: ReturnType<typeof storageFixture>[]) {
    return async (i: number) => {
      await turn();
      const f = services[i % services.length] as ReturnType<
        typeof storageFixture
      >;
      return f.service.files.write(
        ALICE,
        'project',
        `ml101/f${i}`,
        Readable.from([Buffer.alloc(SIZE)]),
        { size: SIZE, overwrite: false }
      );
    };
  }

  function replicas() {
    const first = storageFixture(storeOf(0));
    return [first, storageFixture(storeOf(1), first)];
  }

  it.each(['concurrent', 'sequential'] as const)(
    'admits the writes that fit in the quota, whichever replica writes (%s)',
    async mode => {
      const services = replicas();
      const results = await requests(mode, write(services));
      const written = results.filter(r => r.status === 'fulfilled');
      expect(written).toHaveLength(Math.floor(500 / SIZE));
      const refused = results.find(r => r.status === 'rejected');
      expect(refused?.status === 'rejected' && refused.reason).toMatchObject({
        code: 'quota_exceeded'
      });
    }
  );

  it('sees a write the other replica finished without measuring again', async () => {
    const [a, b] = replicas();
    if (a === undefined || b === undefined) {
      throw new Error('two replicas');
    }
    await write([a])(0);
    // b measures once (120 B, a's file); a's next writes reach b through the store:
    // a figure b kept in memory would still say 240 B and let a fifth file in.
    await expect(write([b])(1)).resolves.toBeDefined();
    await write([a])(2);
    await write([a])(3);
    const fifth = await Promise.allSettled([write([b])(4)]);
    expect(fifth[0]).toMatchObject({
      status: 'rejected',
      reason: { code: 'quota_exceeded' }
    });
  });
});

describe('a transfer on two replicas', () => {
  it('is answered by the replica that does not copy, to its owner only', async () => {
    const a = storageFixture(storeOf(0));
    const b = storageFixture(storeOf(1), a);
    a.fs.put('/scratch/u-alice/run/a.txt', 'abc');
    a.fs.put('/scratch/u-alice/run/b.txt', 'de');
    const t = await a.service.transfers.start(ALICE, 'scratch', {
      from: 'run',
      toTier: 'archive',
      to: 'runs/run1'
    });
    expect(b.service.transfers.get(ALICE, t.id)).toMatchObject({
      state: 'running',
      bytesTotal: 5
    });
    await a.service.transfers.settled(t.id);
    expect(b.service.transfers.get(ALICE, t.id)).toMatchObject({
      state: 'completed',
      bytesDone: 5,
      filesDone: 2
    });
    expect(() =>
      b.service.transfers.get({ name: 'bob', groups: [] }, t.id)
    ).toThrow(`No transfer ${t.id}`);
  });
});
