/**
 * Notebook jobs on the real SLURM through the hub's proxy: submit, follow, cancel,
 * outputs, logs, ownership, hostile input (a bridge killed while jobs run: the fault suite). Jobs run in parallel where
 * they can (the node has 2 CPUs), each waited for with a bounded poll.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import {
  ErrorBodySchema,
  JobEstimateSchema,
  JobListSchema,
  JobSchema,
  NotebookContentSchema,
  ProfileListSchema,
  SshCredentialSchema,
  TERMINAL_JOB_STATES,
  type Job,
  type JobSubmit,
  type NotebookContent
} from '../../src/contract';
import {
  BRIDGE_URL,
  bridgeStore,
  bridge,
  code,
  createUserToken,
  notebook
} from './stack';
import { SseFrames } from './sse-frames';

jest.setTimeout(180_000);

const PARAMETERISED = notebook(
  code('x = 1', ['parameters']),
  code('y = x * 2\nprint(y)')
);

let alice: string;
let bob: string;
let admin: string;

const HOSTILE_MARKER = `/tmp/hpc-bridge-pwned-${randomBytes(6).toString('hex')}`;
const HOSTILE = [
  `a;touch ${HOSTILE_MARKER}`,
  `$(touch ${HOSTILE_MARKER})`,
  `\`touch ${HOSTILE_MARKER}\``,
  `x\ntouch ${HOSTILE_MARKER}`,
  `'; touch ${HOSTILE_MARKER}; '`,
  `"; import os; os.system('touch ${HOSTILE_MARKER}'); "`,
  '../x'
];

/** Jobs submitted up front so that they run in parallel (2 CPUs); tests await their own. */
const early: Record<string, Promise<Job>> = {};

beforeAll(async () => {
  [alice, bob, admin] = await Promise.all([
    createUserToken('alice'),
    createUserToken('bob'),
    createUserToken('admin')
  ]);
  const submitEarly = (key: string, body: JobSubmit): void => {
    early[key] = submit(alice, body);
    early[key].catch(() => undefined); // reported by the test that awaits it
  };
  submitEarly('param', request(PARAMETERISED, { parameters: { x: 21 } }));
  submitEarly(
    'sweep',
    request(PARAMETERISED, { name: 'it-sweep', sweep: { x: [1, 2, 3] } })
  );
  submitEarly(
    'failing',
    request(notebook(code('print("before")'), code('1/0')))
  );
  submitEarly(
    'exit0',
    request(
      notebook(
        code('print("before exit")'),
        code('import sys\nsys.exit(0)'),
        code('print("after exit")')
      ),
      { name: 'it-exit0' }
    )
  );
  submitEarly(
    'boom',
    request(notebook(code('x = 1'), code("raise ValueError('boom')")), {
      name: 'it-boom'
    })
  );
  submitEarly(
    'gpu',
    request(
      notebook(
        code("import os\nprint('CUDA=' + os.environ['CUDA_VISIBLE_DEVICES'])")
      ),
      {
        profile: 'gpu-1'
      }
    )
  );
  submitEarly('private', request(PARAMETERISED, { name: 'alice-private' }));
  submitEarly(
    'hostile',
    request(notebook(code("s = ''", ['parameters']), code('print(repr(s))')), {
      name: 'it-hostile',
      sweep: { s: HOSTILE }
    })
  );
});

function request(
  nb: NotebookContent,
  extra: Partial<JobSubmit> = {}
): JobSubmit {
  return {
    name: 'it-job',
    notebook: { path: 'work/it.ipynb', content: nb },
    profile: 'cpu-small',
    ...extra
  };
}

async function submit(token: string, body: unknown): Promise<Job> {
  const res = await bridge('/api/v1/jobs', token, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body)
  });
  if (res.status !== 201) {
    throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return JobSchema.parse(res.body);
}

async function getJob(token: string, id: string): Promise<Job> {
  const res = await bridge(`/api/v1/jobs/${id}`, token);
  expect(res.status).toBe(200);
  return JobSchema.parse(res.body);
}

/** Polls the job until `done` holds (bounded). */
async function waitFor(
  token: string,
  id: string,
  done: (job: Job) => boolean,
  timeoutMs = 90_000
): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  let job = await getJob(token, id);
  while (!done(job)) {
    if (Date.now() > deadline) {
      throw new Error(`job ${id} still ${job.state}: ${JSON.stringify(job)}`);
    }
    await new Promise(r => setTimeout(r, 500));
    job = await getJob(token, id);
  }
  return job;
}

const ended = (job: Job): boolean => TERMINAL_JOB_STATES.includes(job.state);

async function output(
  token: string,
  id: string,
  element = 0
): Promise<NotebookContent> {
  const res = await bridge(
    `/api/v1/jobs/${id}/output?element=${element}`,
    token
  );
  expect(res.status).toBe(200);
  return NotebookContentSchema.parse(res.body);
}

/** Every text an output notebook shows (stream text and text/plain results). */
function outputText(nb: NotebookContent): string {
  const parts: string[] = [];
  for (const cell of nb.cells) {
    for (const out of (cell.outputs as Record<string, unknown>[] | undefined) ??
      []) {
      const text = out.text;
      parts.push(Array.isArray(text) ? text.join('') : String(text ?? ''));
      const data = out.data as Record<string, unknown> | undefined;
      const plain = data?.['text/plain'];
      if (plain !== undefined) {
        parts.push(Array.isArray(plain) ? plain.join('') : String(plain));
      }
      if (out.ename !== undefined) {
        parts.push(`${String(out.ename)}: ${String(out.evalue)}`);
      }
    }
  }
  return parts.join('\n');
}

async function log(
  token: string,
  id: string,
  query = 'stream=stdout'
): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(`${BRIDGE_URL}/api/v1/jobs/${id}/log?${query}`, {
    headers: { Authorization: `token ${token}` }
  });
  return {
    status: res.status,
    text: await res.text(),
    type: res.headers.get('content-type')
  };
}

describe('profiles and credentials', () => {
  it('lists the stack profiles', async () => {
    const res = await bridge('/api/v1/profiles', alice);
    expect(res.status).toBe(200);
    const { profiles } = ProfileListSchema.parse(res.body);
    expect(profiles.map(p => p.name)).toEqual([
      'cpu-small',
      'gpu-1',
      'cpu-demo2'
    ]);
    expect(profiles[2]).toMatchObject({
      cluster: 'demo2',
      partition: 'batch2'
    });
    expect(profiles[1]?.gpus).toEqual({ default: 1, min: 1, max: 2 });
  });

  it('gives alice her public key, installed by stack/up, which the cluster accepts', async () => {
    const res = await bridge('/api/v1/credentials/ssh?cluster=demo', alice);
    expect(res.status).toBe(200);
    const cred = SshCredentialSchema.parse(res.body);
    expect(cred.clusterUser).toBe('alice');
    expect(cred.publicKey).toMatch(/^ssh-ed25519 /);
    const installed = readFileSync('/home/alice/.ssh/authorized_keys', 'utf8');
    expect(installed).toContain(cred.publicKey);
    const est = await bridge('/api/v1/jobs/estimate', alice, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(request(PARAMETERISED))
    });
    expect(est.status).toBe(200);
    expect(JobEstimateSchema.parse(est.body).message).toMatch(
      /to start at|Job \d+/
    );
  });
});

describe('notebook jobs', () => {
  it('runs a parameterised notebook to COMPLETED with the computed value in the output and log', async () => {
    const job = await early.param;
    expect(job.owner).toBe('alice');
    expect(job.slurmId).toMatch(/^\d+$/);
    const done = await waitFor(alice, job.id, ended);
    expect(done.state).toBe('COMPLETED');
    const el = done.elements[0];
    expect(el?.exitCode).toBe('0:0');
    expect(el?.node).toBe('node1');
    expect(el?.progress).toEqual({ cell: 3, of: 3 });
    expect(outputText(await output(alice, job.id))).toContain('42');
    const stdout = await log(alice, job.id);
    expect(stdout.status).toBe(200);
    expect(stdout.type).toMatch(/^text\/plain/);
    expect(stdout.text).toContain('42');
  });

  it('runs a 3-point sweep as one array with one output per element', async () => {
    const job = await early.sweep;
    expect(job.isArray).toBe(true);
    expect(job.elements.map(e => e.slurmId)).toEqual(
      [0, 1, 2].map(i => `${job.slurmId}_${i}`)
    );
    const done = await waitFor(alice, job.id, ended);
    expect(done.state).toBe('COMPLETED');
    expect(done.elements.map(e => e.state)).toEqual([
      'COMPLETED',
      'COMPLETED',
      'COMPLETED'
    ]);
    const texts = await Promise.all(
      [0, 1, 2].map(i => output(alice, job.id, i))
    );
    expect(texts.map(t => outputText(t).trim().split('\n').pop())).toEqual([
      '2',
      '4',
      '6'
    ]);
  });

  it('marks a failing cell FAILED with the traceback in the output and the stderr log', async () => {
    const job = await early.failing;
    const done = await waitFor(alice, job.id, ended);
    expect(done.state).toBe('FAILED');
    expect(done.elements[0]?.exitCode).toBe('1:0');
    expect(outputText(await output(alice, job.id))).toContain(
      'ZeroDivisionError'
    );
    const stderr = await log(alice, job.id, 'stream=stderr');
    expect(stderr.text).toContain('ZeroDivisionError');
  });

  it('ends a notebook that calls sys.exit(0) COMPLETED, as papermill does', async () => {
    const job = await early.exit0;
    const done = await waitFor(alice, job.id, ended);
    expect(done.state).toBe('COMPLETED');
    expect(done.elements[0]?.exitCode).toBe('0:0');
    expect(done.error ?? null).toBeNull();
    const text = outputText(await output(alice, job.id));
    expect(text).toContain('before exit');
    expect(text).not.toContain('after exit');
  });

  it("reports the exception of a failing cell as the job's error", async () => {
    const job = await early.boom;
    const done = await waitFor(alice, job.id, ended);
    expect(done.state).toBe('FAILED');
    expect(done.error).toEqual({
      ename: 'ValueError',
      evalue: 'boom',
      cell: 1
    });
    expect(done.elements[0]?.error).toEqual(done.error);
  });

  it('gives a GPU profile CUDA_VISIBLE_DEVICES', async () => {
    const job = await early.gpu;
    expect(job.partition).toBe('gpu');
    const done = await waitFor(alice, job.id, ended);
    expect(done.state).toBe('COMPLETED');
    expect(outputText(await output(alice, job.id))).toMatch(/CUDA=\d/);
  });

  it('cancels a running job', async () => {
    const job = await submit(
      alice,
      request(notebook(code('import time\ntime.sleep(60)')))
    );
    await waitFor(alice, job.id, j => j.state === 'RUNNING');
    const res = await bridge(`/api/v1/jobs/${job.id}/cancel`, alice, {
      method: 'POST'
    });
    expect(res.status).toBe(200);
    const done = await waitFor(alice, job.id, ended, 30_000);
    expect(done.state).toBe('CANCELLED');
    const store = bridgeStore();
    const audit = store.db
      .prepare('SELECT action FROM audit WHERE target = ? ORDER BY id')
      .all(job.id) as { action: string }[];
    store.close();
    expect(audit.map(a => a.action)).toEqual(
      expect.arrayContaining(['job.submit', 'job.cancel'])
    );
  });

  it('refuses a notebook whose kernel the cluster lacks (ir), naming python3', async () => {
    const r = notebook(code('x <- 1', ['parameters']), code('print(x)'));
    r.metadata = {
      kernelspec: { name: 'ir', display_name: 'R', language: 'R' },
      language_info: { name: 'R' }
    };
    const res = await bridge('/api/v1/jobs', alice, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(request(r, { parameters: { x: 2 } }))
    });
    expect(res.status).toBe(400);
    const err = ErrorBodySchema.parse(res.body).error;
    expect(err.message).toMatch(/kernel ir.*python3/);
    expect(err.details).toMatchObject({ kernels: ['python3'] });
  });

  it('replaces the injected-parameters cell of an executed notebook with the new values', async () => {
    const executed = notebook(
      code('x = 0', ['parameters']),
      code('# Parameters\nx = 1\n', ['injected-parameters']),
      code('print(f"x={x}")')
    );
    const job = await submit(
      alice,
      request(executed, { name: 'it-reinject', parameters: { x: 2 } })
    );
    const done = await waitFor(alice, job.id, ended);
    expect(done.state).toBe('COMPLETED');
    const out = await output(alice, job.id);
    const text = outputText(out);
    expect(text).toContain('x=2');
    expect(text).not.toContain('x=1');
    const injected = out.cells.filter(c =>
      (c.metadata?.tags as unknown[] | undefined)?.includes(
        'injected-parameters'
      )
    );
    expect(injected).toHaveLength(1);
  });

  it('rejects resources outside the profile with the limits in the details', async () => {
    const res = await bridge('/api/v1/jobs', alice, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(request(PARAMETERISED, { resources: { cpus: 64 } }))
    });
    expect(res.status).toBe(400);
    const err = ErrorBodySchema.parse(res.body).error;
    expect(err.message).toMatch(/cpus=64 \(allowed 1–2\)/);
    expect(err.details).toEqual([{ field: 'cpus', value: 64, min: 1, max: 2 }]);
  });
});

describe('actions on a finished job', () => {
  it('refuses cancel, hold and release of a COMPLETED job with 409 and a sentence', async () => {
    const job = await early.param;
    const done = await waitFor(alice, job.id, ended);
    expect(done.state).toBe('COMPLETED');
    for (const action of ['cancel', 'hold', 'release']) {
      const res = await bridge(`/api/v1/jobs/${job.id}/${action}`, alice, {
        method: 'POST'
      });
      expect({ action, status: res.status }).toEqual({ action, status: 409 });
      expect(ErrorBodySchema.parse(res.body).error.message).toBe(
        `Job ${job.id} has already ended (COMPLETED); there is nothing to ${action}`
      );
    }
    expect((await getJob(alice, job.id)).state).toBe('COMPLETED');
  });
});

describe('log follow', () => {
  it('streams stdout while the job runs and ends when it has finished', async () => {
    const job = await submit(
      alice,
      request(
        notebook(
          code(
            'import time\nfor i in range(3):\n    print(f"tick {i}", flush=True)\n    time.sleep(1)'
          )
        ),
        { name: 'it-follow' }
      )
    );
    await waitFor(alice, job.id, j => j.state === 'RUNNING' || ended(j));
    const started = Date.now();
    const res = await log(alice, job.id, 'stream=stdout&follow=1');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/tick 0[\s\S]*tick 1[\s\S]*tick 2/);
    expect(ended(await getJob(alice, job.id))).toBe(true);
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});

describe('ownership', () => {
  let job: Job;
  beforeAll(async () => {
    job = await early.private;
  });

  it("keeps alice's job out of bob's list, reads and actions (404), but not the admin's", async () => {
    const list = JobListSchema.parse((await bridge('/api/v1/jobs', bob)).body);
    expect(list.jobs.map(j => j.id)).not.toContain(job.id);
    expect((await bridge(`/api/v1/jobs/${job.id}`, bob)).status).toBe(404);
    for (const action of ['cancel', 'hold', 'release', 'resubmit']) {
      const res = await bridge(`/api/v1/jobs/${job.id}/${action}`, bob, {
        method: 'POST'
      });
      expect({ action, status: res.status }).toEqual({ action, status: 404 });
    }
    expect((await bridge(`/api/v1/jobs/${job.id}/output`, bob)).status).toBe(
      404
    );
    expect((await log(bob, job.id)).status).toBe(404);
    expect((await bridge('/api/v1/jobs?all=true', bob)).status).toBe(403);

    const mine = JobListSchema.parse(
      (await bridge('/api/v1/jobs', alice)).body
    );
    expect(mine.jobs.map(j => j.id)).toContain(job.id);
    const all = JobListSchema.parse(
      (await bridge('/api/v1/jobs?all=true', admin)).body
    );
    expect(all.jobs.map(j => j.id)).toContain(job.id);
    expect((await bridge(`/api/v1/jobs/${job.id}`, admin)).status).toBe(200);
    await waitFor(alice, job.id, ended);
  });
});

describe('hostile input', () => {
  const marker = HOSTILE_MARKER;
  const payloads = HOSTILE;

  it('rejects hostile job names', async () => {
    for (const name of payloads) {
      const res = await bridge('/api/v1/jobs', alice, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(request(PARAMETERISED, { name }))
      });
      expect({ name, status: res.status }).toEqual({ name, status: 400 });
    }
  });

  it('rejects hostile notebook paths', async () => {
    for (const path of [
      '../x.ipynb',
      '/etc/x.ipynb',
      'a/../../b.ipynb',
      'a/./b.ipynb',
      'x\n.ipynb'
    ]) {
      const body = request(PARAMETERISED);
      body.notebook.path = path;
      const res = await bridge('/api/v1/jobs', alice, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body)
      });
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
    }
  });

  it('runs hostile parameter values inert: echoed verbatim, no marker file', async () => {
    const job = await early.hostile;
    const done = await waitFor(alice, job.id, ended);
    expect(done.state).toBe('COMPLETED');
    const outs = await Promise.all(
      payloads.map((_, i) => output(alice, job.id, i))
    );
    // Python's repr round-trips: compare exactly.
    const printed = outs.map(nb => outputText(nb).trim());
    expect(printed).toEqual(
      payloads.map(p =>
        execFileSync('/usr/bin/python3', [
          '-c',
          'import sys; print(repr(sys.argv[1]))',
          p
        ])
          .toString()
          .trim()
      )
    );
    expect(existsSync(marker)).toBe(false);
  });
});

describe('events', () => {
  it('streams the job to COMPLETED to its owner over SSE', async () => {
    const ac = new AbortController();
    const res = await fetch(`${BRIDGE_URL}/api/v1/events`, {
      headers: { Authorization: `token ${alice}` },
      signal: ac.signal
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const frames = new SseFrames();
    const job = await submit(alice, request(PARAMETERISED, { name: 'it-sse' }));
    const seen: string[] = [];
    const deadline = Date.now() + 90_000;
    try {
      while (!seen.includes('COMPLETED') && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) {
          break;
        }
        for (const frame of frames.feed(
          decoder.decode(value, { stream: true })
        )) {
          if (frame.event === 'job') {
            // Each job event has an id to resume from (Last-Event-ID).
            expect(frame.id).toMatch(/^\d+$/);
            const ev = JSON.parse(frame.data) as { job: Job };
            expect(ev.job.owner).toBe('alice');
            if (ev.job.id === job.id) {
              seen.push(ev.job.state);
            }
          }
        }
      }
    } finally {
      ac.abort();
    }
    expect(seen[0]).toBe('SUBMITTED');
    expect(seen).toContain('COMPLETED');
  });
});

describe('queue: hold and release', () => {
  it('shows a waiting job its queue position, holds it and releases it', async () => {
    // Both CPUs of the node busy, so the next job has to wait in the queue.
    const blocker = await submit(
      alice,
      request(notebook(code('import time\ntime.sleep(120)')), {
        name: 'it-blocker',
        resources: { cpus: 2 }
      })
    );
    await waitFor(alice, blocker.id, j => j.state === 'RUNNING');
    const waiting = await submit(
      alice,
      request(PARAMETERISED, { name: 'it-queued', parameters: { x: 5 } })
    );
    const pending = await waitFor(
      alice,
      waiting.id,
      j => j.state === 'PENDING' && j.queuePosition !== null
    );
    expect(pending.queuePosition).toBeGreaterThanOrEqual(1);

    const held = await bridge(`/api/v1/jobs/${waiting.id}/hold`, alice, {
      method: 'POST'
    });
    expect(held.status).toBe(200);
    // The answer is the job after the action, not before it.
    const onHold = JobSchema.parse(held.body);
    expect(onHold.state).toBe('PENDING');
    expect(onHold.elements[0]?.reason).toMatch(/held/i);

    const released = await bridge(`/api/v1/jobs/${waiting.id}/release`, alice, {
      method: 'POST'
    });
    expect(released.status).toBe(200);
    expect(
      JobSchema.parse(released.body).elements[0]?.reason ?? ''
    ).not.toMatch(/held/i);

    // A second waiting job, held and then cancelled while it waits.
    const doomed = await submit(
      alice,
      request(PARAMETERISED, { name: 'it-doomed' })
    );
    await waitFor(alice, doomed.id, j => j.state === 'PENDING');
    const heldDoomed = await bridge(`/api/v1/jobs/${doomed.id}/hold`, alice, {
      method: 'POST'
    });
    expect(heldDoomed.status).toBe(200);
    const cancelled = await bridge(`/api/v1/jobs/${doomed.id}/cancel`, alice, {
      method: 'POST'
    });
    expect(cancelled.status).toBe(200);
    expect(JobSchema.parse(cancelled.body).state).toBe('CANCELLED');
    expect((await getJob(alice, doomed.id)).state).toBe('CANCELLED');

    await bridge(`/api/v1/jobs/${blocker.id}/cancel`, alice, {
      method: 'POST'
    });
    const done = await waitFor(alice, waiting.id, ended);
    expect(done.state).toBe('COMPLETED');
    expect(outputText(await output(alice, waiting.id))).toContain('10');
  });
});

describe('OpenAPI', () => {
  it('documents every jobs route', async () => {
    const res = await bridge('/api/v1/openapi.json');
    const paths = Object.keys(
      (res.body as { paths: Record<string, unknown> }).paths
    );
    for (const p of [
      '/api/v1/profiles',
      '/api/v1/jobs',
      '/api/v1/jobs/estimate',
      '/api/v1/jobs/{id}',
      '/api/v1/jobs/{id}/cancel',
      '/api/v1/jobs/{id}/hold',
      '/api/v1/jobs/{id}/release',
      '/api/v1/jobs/{id}/resubmit',
      '/api/v1/jobs/{id}/log',
      '/api/v1/jobs/{id}/output',
      '/api/v1/events',
      '/api/v1/credentials/ssh'
    ]) {
      expect(paths.some(x => x.endsWith(p))).toBe(true);
    }
  });
});
