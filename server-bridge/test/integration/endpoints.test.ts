/**
 * Serving endpoints on the real stack, through the hub's proxy: the real llama-server
 * (installed by stack/up) as a local child process of the bridge and as a SLURM job on
 * the `gpu` partition run as alice; ready, a chat completion through the gateway (with a
 * key made by the key routes), stop → process / job gone, ownership.
 */
import { execFileSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import {
  EndpointSchema,
  ErrorBodySchema,
  ModelCatalogSchema,
  Routes,
  type Endpoint
} from '../../src/contract';
import {
  JSON_HEADERS as json,
  createEndpoint,
  newEndpointKey,
  waitForEndpoint
} from './endpoint-calls';
import { BRIDGE_URL, bridge, createUserToken, settled } from './stack';

jest.setTimeout(240_000);

const LLAMA = '/opt/hpc-bridge/llama/bin/llama-server';
const MODEL = '/opt/hpc-bridge/models/tiny-random.gguf';

let alice: string;
let bob: string;
let sleepy: Endpoint;
const created: string[] = [];

beforeAll(async () => {
  // Installed by stack/up (stack/lib/llama.sh); without them nothing here can work.
  expect({ llama: existsSync(LLAMA), model: existsSync(MODEL) }).toEqual({
    llama: true,
    model: true
  });
  [alice, bob] = await Promise.all([
    createUserToken('alice'),
    createUserToken('bob')
  ]);
  // Scales to zero after a minute without requests; its test runs last.
  sleepy = await create({
    name: `it-sleepy-${suffix}`,
    model: 'tiny-random',
    provider: 'local',
    resources: { gpus: 0 },
    idleMinutes: 1
  });
});

afterAll(async () => {
  for (const id of created) {
    await bridge(Routes.endpoint(id), alice, { method: 'DELETE' });
  }
});

const suffix = randomBytes(3).toString('hex');

/**
 * Sends chat requests one after another until `stop()`; counts the answers that were
 * not 200 (the gateway's one retry and the hold are inside; a client sees neither).
 */
function requestLoop(key: string) {
  let running = true;
  const failures: unknown[] = [];
  let ok = 0;
  const done = (async () => {
    while (running) {
      try {
        const res = await chat(key);
        if (res.status === 200) {
          ok += 1;
        } else {
          failures.push(res);
        }
      } catch (e) {
        const cause = (e as { cause?: unknown }).cause;
        failures.push(
          `${String(e)}${cause === undefined ? '' : ` (${String(cause)})`}`
        );
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return { ok, failures };
    },
    ok: () => ok
  };
}

async function create(body: Record<string, unknown>): Promise<Endpoint> {
  const ep = await createEndpoint(alice, body);
  created.push(ep.id);
  return ep;
}

const waitFor = (
  id: string,
  done: (ep: Endpoint) => boolean,
  timeoutMs?: number
): Promise<Endpoint> => waitForEndpoint(id, alice, done, timeoutMs);

const newKey = async (id: string): Promise<string> =>
  (await newEndpointKey(id, alice)).key;

/**
 * One chat completion on a connection of its own (closed after the answer): under load a
 * client that reuses an idle keep-alive connection can race the proxy closing it ("fetch
 * failed" before the request reached the bridge), which is not what these tests count.
 */
function chat(key: string): Promise<{ status: number; body: unknown }> {
  const payload = JSON.stringify({
    model: 'tiny-random',
    messages: [{ role: 'user', content: 'Hello' }],
    max_tokens: 8
  });
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${BRIDGE_URL}/v1/chat/completions`,
      {
        method: 'POST',
        agent: false,
        headers: {
          ...json,
          Authorization: `Bearer ${key}`,
          'Content-Length': String(Buffer.byteLength(payload))
        }
      },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: kept as text for the failure message
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      }
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `STATE PARTITION` of a job in the queue, or '' once it left. */
function squeue(slurmId: string, format = '%T %P'): string {
  try {
    return execFileSync('squeue', ['-h', '-j', slurmId, '-o', format], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore']
    }).trim();
  } catch {
    // "Invalid job id specified": the job left the queue
    return '';
  }
}

describe('model catalog', () => {
  it('lists the demo models with both providers and the gateway URL', async () => {
    const res = await bridge(Routes.modelCatalog, alice);
    expect(res.status).toBe(200);
    const catalog = ModelCatalogSchema.parse(res.body);
    expect(catalog.gatewayUrl).toBe(`${BRIDGE_URL}/v1`);
    // And `openstack` where the stack runs its cloud (./stack/up --with-openstack).
    expect(catalog.models.find(m => m.name === 'tiny-random')).toMatchObject({
      providers: expect.arrayContaining(['local', 'slurm']),
      recipe: 'llama-server'
    });
  });
});

describe('local provider', () => {
  it('runs llama-server as a child process → ready → answers a chat completion → stop kills it', async () => {
    const ep = await create({
      name: `it-local-${suffix}`,
      model: 'tiny-random',
      provider: 'local',
      resources: { gpus: 0 }
    });
    expect(ep.url).toBe(`${BRIDGE_URL}/v1`);
    const ready = await waitFor(ep.id, e => e.state === 'ready');
    const replica = ready.replicas.find(r => r.state === 'ready');
    expect(replica?.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const pid = Number(replica?.ref);
    expect(alive(pid)).toBe(true);

    // The replica itself wants its upstream key: without it, 401.
    const direct = await fetch(`http://${replica?.address}/v1/models`);
    expect(direct.status).toBe(401);

    const key = await newKey(ep.id);
    const answer = await chat(key);
    expect(answer).toMatchObject({
      status: 200,
      body: {
        object: 'chat.completion',
        choices: [{ message: { role: 'assistant' } }]
      }
    });

    const stopped = await bridge(Routes.endpointAction(ep.id, 'stop'), alice, {
      method: 'POST'
    });
    expect(stopped.status).toBe(200);
    // `stopped` from the leader, `stopping` from a follower until the leader's next step
    // has ended the process.
    expect(['stopping', 'stopped']).toContain(
      EndpointSchema.parse(stopped.body).state
    );
    await waitFor(ep.id, e => e.state === 'stopped', 30_000);
    expect(alive(pid)).toBe(false);
    const refused = await chat(key);
    expect(refused.status).toBe(503);
  });

  it("bob gets 404 for alice's private endpoint", async () => {
    const ep = await create({
      name: `it-private-${suffix}`,
      model: 'tiny-random',
      provider: 'local',
      resources: { gpus: 0 }
    });
    for (const path of [Routes.endpoint(ep.id), Routes.endpointKeys(ep.id)]) {
      expect((await bridge(path, bob)).status).toBe(404);
    }
    const stop = await bridge(Routes.endpointAction(ep.id, 'stop'), bob, {
      method: 'POST'
    });
    expect(stop.status).toBe(404);
    await bridge(Routes.endpoint(ep.id), alice, { method: 'DELETE' });
  });
});

describe('slurm provider', () => {
  it("runs llama-server as alice's job on the gpu partition → ready → answers → stop cancels the job", async () => {
    const ep = await create({
      name: `it-slurm-${suffix}`,
      model: 'tiny-random',
      provider: 'slurm',
      resources: { timeMinutes: 10 }
    });
    const ready = await waitFor(ep.id, e => e.state === 'ready');
    const replica = ready.replicas.find(r => r.state === 'ready');
    const slurmId = replica?.ref ?? '';
    expect(slurmId).toMatch(/^\d+$/);
    expect(squeue(slurmId)).toBe('RUNNING gpu');
    expect(squeue(slurmId, '%u')).toBe('alice');
    // The job's time limit sets the replica's end (the handover point).
    const endsAt = Date.parse(replica?.endsAt ?? '');
    expect(endsAt - Date.parse(replica?.createdAt ?? '')).toBeLessThanOrEqual(
      11 * 60_000
    );

    const key = await newKey(ep.id);
    expect(await chat(key)).toMatchObject({
      status: 200,
      body: { object: 'chat.completion' }
    });

    const stopped = await bridge(Routes.endpointAction(ep.id, 'stop'), alice, {
      method: 'POST'
    });
    expect(['stopping', 'stopped']).toContain(
      EndpointSchema.parse(stopped.body).state
    );
    await waitFor(ep.id, e => e.state === 'stopped', 30_000);
    const left = await settled(
      async () => squeue(slurmId),
      queued => queued === '',
      60_000
    );
    expect(left).toBe('');
  });
});

/** Output of `sh -c script` run as a Unix user (as `su` gives it: stdout only). */
function asUser(user: string, script: string): string {
  return execFileSync('su', ['-s', '/bin/sh', user, '-c', script], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'ignore']
  });
}

/** A direct call to a replica, past the gateway. */
async function direct(address: string, key?: string): Promise<number> {
  const res = await fetch(`http://${address}/v1/models`, {
    headers: key === undefined ? {} : { Authorization: `Bearer ${key}` }
  });
  await res.arrayBuffer();
  return res.status;
}

describe('replica keys', () => {
  it('another Unix user finds no replica key in ps or /proc, and a replica wants its own key', async () => {
    const local = await create({
      name: `it-keys-local-${suffix}`,
      model: 'tiny-random',
      provider: 'local',
      resources: { gpus: 0 }
    });
    const slurm = await create({
      name: `it-keys-slurm-${suffix}`,
      model: 'tiny-random',
      provider: 'slurm',
      resources: { timeMinutes: 10 }
    });
    const [l, s] = await Promise.all([
      waitFor(local.id, e => e.state === 'ready'),
      waitFor(slurm.id, e => e.state === 'ready')
    ]);
    const lr = l.replicas.find(r => r.state === 'ready');
    const sr = s.replicas.find(r => r.state === 'ready');
    const pid = Number(lr?.ref);

    // The local replica runs as hpcb-serve with its key in its environment (root reads it).
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const uid = /\nUid:\s+(\d+)/.exec(status)?.[1];
    expect(uid).toBe(
      execFileSync('id', ['-u', 'hpcb-serve'], { encoding: 'utf8' }).trim()
    );
    const localKey =
      readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .find(v => v.startsWith('LLAMA_API_KEY='))
        ?.slice('LLAMA_API_KEY='.length) ?? '';
    expect(localKey).toMatch(/^[A-Za-z0-9_-]{32}$/);
    // The slurm replica read its key from a 0600 file of alice's.
    const home = execFileSync('getent', ['passwd', 'alice'], {
      encoding: 'utf8'
    }).split(':')[5];
    const keyFile = `${home}/.hpc-bridge/endpoints/${sr?.id}/upstream.key`;
    const slurmKey = readFileSync(keyFile, 'utf8').trim();
    expect(slurmKey).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(slurmKey).not.toBe(localKey);
    expect(
      execFileSync('stat', ['-c', '%U %a', keyFile], {
        encoding: 'utf8'
      }).trim()
    ).toBe('alice 600');

    const seen = [
      asUser('bob', 'ps -eo args'),
      asUser('bob', 'cat /proc/[0-9]*/cmdline 2>/dev/null; true'),
      asUser('bob', 'cat /proc/[0-9]*/environ 2>/dev/null; true'),
      asUser('bob', `cat ${keyFile} 2>/dev/null; true`)
    ].join('\n');
    expect(seen).toContain('llama-server');
    expect(seen.includes(localKey)).toBe(false);
    expect(seen.includes(slurmKey)).toBe(false);
    // SLURM shows the job's script and command to everyone: neither holds a key.
    const job = execFileSync('scontrol', ['show', 'job', sr?.ref ?? ''], {
      encoding: 'utf8'
    });
    expect(job.includes(slurmKey)).toBe(false);

    // Past the gateway: no key, or another replica's key → 401.
    for (const [address, own, other] of [
      [lr?.address ?? '', localKey, slurmKey],
      [sr?.address ?? '', slurmKey, localKey]
    ] as const) {
      expect(await direct(address)).toBe(401);
      expect(await direct(address, other)).toBe(401);
      expect(await direct(address, own)).toBe(200);
    }

    for (const ep of [local, slurm]) {
      await bridge(Routes.endpoint(ep.id), alice, { method: 'DELETE' });
    }
  });

  it('refuses a third running local endpoint of one user with 429', async () => {
    const body = (n: number) => ({
      name: `it-cap-${n}-${suffix}`,
      model: 'tiny-random',
      provider: 'local',
      resources: { gpus: 0 }
    });
    const eps = [
      await createEndpoint(bob, body(1)),
      await createEndpoint(bob, body(2))
    ];
    const third = await bridge(Routes.endpoints, bob, {
      method: 'POST',
      headers: json,
      body: JSON.stringify(body(3))
    });
    expect(third.status).toBe(429);
    expect(ErrorBodySchema.parse(third.body).error).toMatchObject({
      code: 'rate_limited',
      message: expect.stringMatching(
        /^At most 2 endpoints of one user run on the local provider at once/
      )
    });
    for (const ep of eps) {
      await bridge(Routes.endpoint(ep.id), bob, { method: 'DELETE' });
    }
  });
});

describe('slurm provider: failures and walltime', () => {
  it("a replica job cancelled behind the bridge's back is replaced; a client loop sees no failed request", async () => {
    const ep = await create({
      name: `it-cancel-${suffix}`,
      model: 'tiny-random',
      provider: 'slurm',
      resources: { timeMinutes: 10 }
    });
    const ready = await waitFor(ep.id, e => e.state === 'ready');
    const first = ready.replicas.find(r => r.state === 'ready');
    const key = await newKey(ep.id);
    const loop = requestLoop(key);
    while (loop.ok() < 3) {
      await new Promise(r => setTimeout(r, 100));
    }
    execFileSync('scancel', [first?.ref ?? '']);
    const again = await waitFor(
      ep.id,
      e =>
        e.state === 'ready' &&
        e.replicas.some(r => r.state === 'ready' && r.id !== first?.id)
    );
    const before = loop.ok();
    while (loop.ok() < before + 3) {
      await new Promise(r => setTimeout(r, 100));
    }
    const { failures } = await loop.stop();
    expect(failures).toEqual([]);
    expect(again.restarts).toBe(1);
    expect(again.replicas.find(r => r.id === first?.id)).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/CANCELLED/)
    });
    await bridge(Routes.endpoint(ep.id), alice, { method: 'DELETE' });
  });

  it('hands over before the time limit under a steady request loop: zero failed requests, same URL', async () => {
    // A 1-minute limit: the next replica starts 30 s before the end (half the limit).
    const ep = await create({
      name: `it-handover-${suffix}`,
      model: 'tiny-random',
      provider: 'slurm',
      resources: { timeMinutes: 1 }
    });
    const ready = await waitFor(ep.id, e => e.state === 'ready');
    expect(ready.replicas).toHaveLength(1);
    const first = ready.replicas[0];
    const key = await newKey(ep.id);
    const loop = requestLoop(key);
    while (loop.ok() < 3) {
      await new Promise(r => setTimeout(r, 100));
    }
    // The loop runs before the handover starts (30 s before the end).
    const during = await bridge(Routes.endpoint(ep.id), alice);
    expect(EndpointSchema.parse(during.body).replicas).toHaveLength(1);
    const after = await waitFor(
      ep.id,
      e =>
        e.replicas.some(r => r.id === first?.id && r.state === 'stopped') &&
        e.replicas.some(r => r.id !== first?.id && r.state === 'ready'),
      240_000
    );
    const before = loop.ok();
    while (loop.ok() < before + 3) {
      await new Promise(r => setTimeout(r, 100));
    }
    const { failures } = await loop.stop();
    expect(failures).toEqual([]);
    expect(after.url).toBe(ready.url);
    expect(after.restarts).toBe(0);
    // Stopped by the handover: drained, or ended by its time limit while it drained.
    expect(after.replicas.find(r => r.id === first?.id)?.reason).toMatch(
      /Drained after a walltime handover|Reached its time limit|\(walltime handover\)$/
    );
    await bridge(Routes.endpoint(ep.id), alice, { method: 'DELETE' });
  });
});

describe('scale to zero', () => {
  it('an idle endpoint scales to zero; a request wakes it and is answered, not failed', async () => {
    const asleep = await waitFor(
      sleepy.id,
      e => e.state === 'scaled-to-zero',
      200_000
    );
    expect(asleep.reason).toMatch(/No request for 1 minute/);
    expect(asleep.replicas.every(r => r.state === 'stopped')).toBe(true);
    const key = await newKey(sleepy.id);
    expect(await chat(key)).toMatchObject({
      status: 200,
      body: { object: 'chat.completion' }
    });
    const awake = await waitFor(sleepy.id, e => e.state === 'ready');
    expect(awake.replicas.filter(r => r.state === 'ready')).toHaveLength(1);
  });
});
