/**
 * The fault suite's helpers: break one component of the real stack with stack/ctl, keep
 * it broken only inside `duringFault`, and always put it back (even when the test
 * fails) until ./stack/status is ok again.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  ErrorBodySchema,
  JobSchema,
  TERMINAL_JOB_STATES,
  type ErrorBody,
  type Job,
  type JobSubmit
} from '../../src/contract';
import {
  bridge,
  code,
  createUserToken,
  notebook,
  send,
  settled
} from '../integration/stack';

export { code, notebook };

const run = promisify(execFile);
const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const STACK = join(REPO_ROOT, 'stack');

export type Component =
  | 'bridge'
  | `bridge-${number}`
  | 'sshd'
  | 'slurmctld'
  | 'slurmctld-demo2'
  | 'swift-proxy'
  | 'swift-object'
  | 'jupyterhub'
  | 'configurable-http-proxy';

/** `stack/ctl ACTION COMPONENT`; throws with its output when it fails. */
export async function ctl(
  action: 'stop' | 'start' | 'kill9' | 'freeze' | 'pid',
  component: Component
): Promise<string> {
  const { stdout } = await run(join(STACK, 'ctl'), [action, component], {
    timeout: 240_000
  });
  return stdout.trim();
}

/** `./stack/status` once: its exit code and its lines. */
export async function stackStatus(): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout } = await run(join(STACK, 'status'), [], {
      timeout: 90_000
    });
    return { ok: true, output: stdout };
  } catch (e) {
    return {
      ok: false,
      output: String((e as { stdout?: string }).stdout ?? e)
    };
  }
}

/**
 * Polls ./stack/status until every component is ok (bounded). The OpenStack cloud is left
 * out: npm test starts it beside this suite, and no fault here touches it.
 */
export async function stackOk(timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      await run(join(STACK, 'status'), ['--without-openstack'], {
        timeout: 60_000
      });
      return;
    } catch (e) {
      last = String((e as { stdout?: string }).stdout ?? e);
    }
    await sleep(2_000);
  }
  throw new Error(`./stack/status not ok after the fault:\n${last}`);
}

/**
 * Breaks COMPONENT with `how`, runs `body` while it is down, then starts it again and
 * waits for the whole stack, whatever `body` did.
 */
export async function duringFault<T>(
  component: Component,
  how: 'stop' | 'kill9' | 'freeze',
  body: () => Promise<T>
): Promise<T> {
  try {
    await ctl(how, component);
    return await body();
  } finally {
    await ctl('start', component);
    await stackOk();
  }
}

/**
 * The set-up of a fault file that acts as alice: the suite's timeout, a run id for unique
 * names, and alice's token, taken once the stack is ok (call `alice()` inside the tests).
 */
export function faultSuite(): { run: string; alice: () => string } {
  jest.setTimeout(600_000);
  let alice: string;
  beforeAll(async () => {
    await stackOk();
    alice = await createUserToken('alice');
  });
  return { run: randomBytes(3).toString('hex'), alice: () => alice };
}

export const sleep = (ms: number): Promise<void> =>
  new Promise(r => setTimeout(r, ms));

/**
 * Polls `probe` until it returns a value (not undefined); bounded. A probe that throws
 * (a component still coming back) counts as no value yet.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 120_000,
  everyMs = 500
): Promise<T> {
  let lastError: unknown = null;
  const value = await settled(
    async () => {
      try {
        return await probe();
      } catch (e) {
        lastError = e;
        return undefined;
      }
    },
    v => v !== undefined,
    timeoutMs,
    everyMs
  );
  if (value === undefined) {
    throw new Error(`${what}: not reached (${String(lastError)})`);
  }
  return value;
}

/** The error body of a response, checked against the one error shape. */
export function errorOf(res: { status: number; body: unknown }): {
  status: number;
  error: ErrorBody['error'];
} {
  const parsed = ErrorBodySchema.safeParse(res.body);
  if (!parsed.success) {
    throw new Error(
      `not the error shape (${res.status}): ${JSON.stringify(res.body)}`
    );
  }
  return { status: res.status, error: parsed.data.error };
}

// ---------------------------------------------------------------- jobs

/** A job that sleeps SECONDS and prints a marker. */
export function sleeper(name: string, seconds: number): JobSubmit {
  return {
    name,
    notebook: {
      path: `faults/${name}.ipynb`,
      content: notebook(
        code(`import time\ntime.sleep(${seconds})\nprint("done ${name}")`)
      )
    },
    profile: 'cpu-small'
  };
}

export function submitJob(
  token: string,
  body: JobSubmit
): Promise<{ status: number; body: unknown }> {
  return send(token, 'POST', '/api/v1/jobs', body);
}

export async function submitOk(token: string, body: JobSubmit): Promise<Job> {
  const res = await submitJob(token, body);
  if (res.status !== 201) {
    throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return JobSchema.parse(res.body);
}

export async function getJob(token: string, id: string): Promise<Job> {
  const res = await bridge(`/api/v1/jobs/${id}`, token);
  if (res.status !== 200) {
    throw new Error(`job ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return JobSchema.parse(res.body);
}

export const ended = (job: Job): boolean =>
  TERMINAL_JOB_STATES.includes(job.state);

/** Polls the job until `done` holds; transient errors (a restarting bridge) are retried. */
export function waitForJob(
  token: string,
  id: string,
  done: (job: Job) => boolean,
  timeoutMs = 150_000
): Promise<Job> {
  return eventually(
    `job ${id}`,
    async () => {
      const job = await getJob(token, id);
      return done(job) ? job : undefined;
    },
    timeoutMs
  );
}

// ---------------------------------------------------------------- processes

/** Live processes whose program (argv[0]) is PROGRAM, with their stdout target. */
export function processesOf(
  program: string
): { pid: number; stdout: string }[] {
  const found: { pid: number; stdout: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) {
      continue;
    }
    try {
      const argv0 = readFileSync(`/proc/${name}/cmdline`, 'utf8').split(
        '\0'
      )[0];
      const state = readFileSync(`/proc/${name}/stat`, 'utf8')
        .split(') ')[1]
        ?.charAt(0);
      if (argv0 === program && state !== 'Z') {
        found.push({
          pid: Number(name),
          stdout: readlinkSync(`/proc/${name}/fd/1`)
        });
      }
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
