/**
 * Shell and Python payloads in every string of a job submit that reaches the cluster
 * (name, notebook path, parameters, sweep values, environment of the job): each submit is
 * either refused with a 400 or runs to its end as data, and no canary file appears on the
 * machine (which in the stack is the login node, the compute node and the bridge host).
 */
import { existsSync } from 'node:fs';
import type { JobSubmit } from '../../src/contract';
import { createUserToken } from '../integration/stack';
import {
  code,
  ended,
  getJob,
  notebook,
  submitJob,
  waitForJob
} from '../faults/fault';
import { canaryPath, compactShellPayloads, shellPayloads } from './payloads';

jest.setTimeout(300_000);

const CANARY = canaryPath('jobs');
let alice: string;

beforeAll(async () => {
  alice = await createUserToken('alice');
});

function submits(): { what: string; body: JobSubmit }[] {
  const base = (name: string): JobSubmit => ({
    name,
    notebook: {
      path: 'hostile/jobs.ipynb',
      content: notebook(
        code('x = "default"', ['parameters']),
        code('print(repr(x))')
      )
    },
    profile: 'cpu-small',
    resources: { timeMinutes: 2 }
  });
  const all = [...shellPayloads(CANARY), ...compactShellPayloads(CANARY)];
  return [
    ...compactShellPayloads(CANARY).map(p => ({
      what: `name ${p}`,
      body: base(p)
    })),
    ...compactShellPayloads(CANARY).map(p => ({
      what: `notebook path ${p}`,
      body: {
        ...base('hostile-path'),
        notebook: { ...base('x').notebook, path: `hostile/${p}.ipynb` }
      }
    })),
    {
      what: 'parameters',
      body: {
        ...base('hostile-params'),
        parameters: Object.fromEntries(all.map((p, i) => [`x${i}`, p]))
      }
    },
    {
      what: 'parameter x',
      body: { ...base('hostile-param-x'), parameters: { x: all.join(' ') } }
    },
    {
      what: 'sweep values',
      body: {
        ...base('hostile-sweep'),
        sweep: { x: all.slice(0, 3) }
      }
    }
  ];
}

test('no payload in a job submit runs, on the bridge or in the job', async () => {
  const accepted: string[] = [];
  const answers: string[] = [];
  for (const { what, body } of submits()) {
    const res = await submitJob(alice, body);
    answers.push(`${what}: ${res.status}`);
    expect([201, 400]).toContain(res.status);
    if (res.status === 201) {
      accepted.push((res.body as { id: string }).id);
    }
  }
  // At least the parameter submits run: their values are data in the notebook.
  expect(accepted.length).toBeGreaterThanOrEqual(2);
  for (const id of accepted) {
    await waitForJob(alice, id, ended);
  }
  const states = await Promise.all(
    accepted.map(async id => (await getJob(alice, id)).state)
  );
  expect(states.every(s => s === 'COMPLETED')).toBe(true);
  expect(existsSync(CANARY)).toBe(false);
});
