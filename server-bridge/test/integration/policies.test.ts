/**
 * Data-class policies through the hub, on the real stack: a job that uses the sensitive
 * tier is refused on a non-compliant partition and runs on a compliant one (its notebook
 * sees where the tiers are), a user outside the tier's group does not see it, an
 * endpoint may not take sensitive data to a non-compliant provider, share links only on
 * public tiers, and the audit log shows the refused and the accepted uses.
 */
import { randomBytes } from 'node:crypto';
import {
  AuditListSchema,
  ErrorBodySchema,
  JobSchema,
  NotebookContentSchema,
  Routes,
  TERMINAL_JOB_STATES,
  type AuditRecord,
  type Job,
  type NotebookContent
} from '../../src/contract';
import { bridge, code, createUserToken, notebook, send } from './stack';

jest.setTimeout(180_000);

const RUN = randomBytes(4).toString('hex');

let alice: string;
let bob: string;
let admin: string;
let since: string;

beforeAll(async () => {
  since = new Date(Date.now() - 1000).toISOString();
  [alice, bob, admin] = await Promise.all([
    createUserToken('alice'),
    createUserToken('bob'),
    createUserToken('admin')
  ]);
});

const PRINT_TIERS = [
  'import os',
  "for k in ['HPCB_TIER_SENSITIVE', 'HPCB_TIER_SCRATCH', 'HPCB_S3_ENDPOINT']:",
  "    print(k + '=' + os.environ[k])"
].join('\n');

const TIERS_NOTEBOOK = notebook(code(PRINT_TIERS));

const submit = (
  token: string,
  name: string,
  profile: string,
  tiers: string[]
) =>
  send(token, 'POST', Routes.jobs, {
    name,
    notebook: { path: 'work/policy.ipynb', content: TIERS_NOTEBOOK },
    profile,
    tiers
  });

function error(res: { body: unknown }) {
  return ErrorBodySchema.parse(res.body).error;
}

async function waitEnded(token: string, id: string): Promise<Job> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const res = await bridge(Routes.job(id), token);
    if (res.status === 200) {
      const job = JobSchema.parse(res.body);
      if (TERMINAL_JOB_STATES.includes(job.state)) {
        return job;
      }
    }
    if (Date.now() > deadline) {
      throw new Error(`job ${id} did not end: ${JSON.stringify(res.body)}`);
    }
    await new Promise(r => setTimeout(r, 500));
  }
}

function printed(nb: NotebookContent): string {
  return nb.cells
    .flatMap(
      c => (c.outputs as { text?: string | string[] }[] | undefined) ?? []
    )
    .map(o => (Array.isArray(o.text) ? o.text.join('') : (o.text ?? '')))
    .join('');
}

const refusedJob = `policy-cpu-${RUN}`;
const acceptedJob = `policy-gpu-${RUN}`;
const bobJob = `policy-bob-${RUN}`;
const refusedEndpoint = `policy-ep-${RUN}`;
let acceptedId = '';

describe('a job that uses the sensitive tier', () => {
  it('is refused on the cpu partition with the rule named', async () => {
    const res = await submit(alice, refusedJob, 'cpu-small', ['sensitive']);
    expect(res.status).toBe(403);
    expect(error(res)).toMatchObject({
      code: 'policy_refused',
      message:
        "Refused by the data-class rule 'sensitive data only on compliant partitions': tier sensitive is sensitive, partition cpu is not compliant (compliant: gpu)",
      details: { rule: 'sensitive data only on compliant partitions' }
    });
  });

  it('runs on the gpu partition, and its notebook sees where the tiers are', async () => {
    const res = await submit(alice, acceptedJob, 'gpu-1', [
      'sensitive',
      'scratch'
    ]);
    expect(res.status).toBe(201);
    const job = JobSchema.parse(res.body);
    acceptedId = job.id;
    expect(job.tiers).toEqual(['sensitive:medical', 'scratch']);
    expect((await waitEnded(alice, job.id)).state).toBe('COMPLETED');
    const out = await bridge(Routes.jobOutput(job.id), alice);
    expect(out.status).toBe(200);
    expect(printed(NotebookContentSchema.parse(out.body))).toBe(
      [
        'HPCB_TIER_SENSITIVE=s3://hpc-sensitive/medical/',
        'HPCB_TIER_SCRATCH=/scratch/alice',
        'HPCB_S3_ENDPOINT=http://127.0.0.1:8080',
        ''
      ].join('\n')
    );
  });

  it('is answered like a missing tier for bob, who is not in medical', async () => {
    const res = await submit(bob, bobJob, 'gpu-1', ['sensitive']);
    expect(res.status).toBe(404);
    expect(error(res)).toEqual({
      code: 'not_found',
      message: 'No storage tier named "sensitive"'
    });
  });

  it('needs the group folder named where the user has several', async () => {
    const res = await submit(bob, bobJob, 'cpu-small', ['project']);
    expect(res.status).toBe(400);
    expect(error(res).message).toBe(
      'Tier project has one folder per group and you are in several: name one, e.g. "project:genomics" or "project:ml101"'
    );
  });
});

describe('an endpoint that uses the sensitive tier', () => {
  it('is refused on the local provider and with a non-compliant fallback', async () => {
    const local = await send(alice, 'POST', Routes.endpoints, {
      name: refusedEndpoint,
      model: 'tiny-random',
      provider: 'local',
      tiers: ['sensitive']
    });
    expect(local.status).toBe(403);
    expect(error(local)).toMatchObject({
      code: 'policy_refused',
      message:
        "Refused by the data-class rule 'sensitive data only on compliant serving providers': tier sensitive is sensitive, provider local is not compliant (compliant: slurm)"
    });
    const fallback = await send(alice, 'POST', Routes.endpoints, {
      name: refusedEndpoint,
      model: 'tiny-random',
      provider: 'slurm',
      fallback: 'local',
      tiers: ['sensitive']
    });
    expect(fallback.status).toBe(403);
    expect(error(fallback).message).toBe(
      "Refused by the data-class rule 'sensitive data only on compliant serving providers': tier sensitive is sensitive, fallback provider local is not compliant (compliant: slurm)"
    );
    const list = await bridge(Routes.endpoints, alice);
    expect(JSON.stringify(list.body)).not.toContain(refusedEndpoint);
  });
});

it('allows share links only on public tiers, naming the rule', async () => {
  const res = await send(alice, 'POST', Routes.tierLinks('archive'), {
    path: `policy-${RUN}.txt`
  });
  expect(res.status).toBe(403);
  expect(error(res)).toMatchObject({
    code: 'policy_refused',
    message:
      "Refused by the data-class rule 'share links only on public tiers': tier archive has class archive, not public"
  });
});

describe('the audit log', () => {
  async function records(action: string): Promise<AuditRecord[]> {
    const res = await bridge(
      `${Routes.audit}?${new URLSearchParams({ action, since, limit: '1000' }).toString()}`,
      admin
    );
    expect(res.status).toBe(200);
    return AuditListSchema.parse(res.body).records.reverse();
  }

  const row = (r: AuditRecord) => [
    r.user,
    r.action,
    r.target,
    r.details.outcome
  ];

  it('shows the refused and the accepted uses of the sensitive tier, to admins', async () => {
    expect(
      (await bridge(`${Routes.audit}?action=job.uses-tier`, alice)).status
    ).toBe(403);
    const jobs = (await records('job.uses-tier')).filter(r =>
      [refusedJob, acceptedJob, bobJob].includes(String(r.details.name))
    );
    expect(jobs.map(row)).toEqual([
      ['alice', 'job.uses-tier', 'sensitive:medical', 'refused'],
      ['alice', 'job.uses-tier', 'sensitive:medical', 'ok'],
      ['bob', 'job.uses-tier', 'sensitive', 'refused']
    ]);
    expect(jobs[0]?.details).toMatchObject({
      name: refusedJob,
      partition: 'cpu'
    });
    expect(jobs[1]?.details).toMatchObject({
      job: acceptedId,
      partition: 'gpu'
    });
    const endpoints = (await records('endpoint.uses-tier')).filter(
      r => r.details.name === refusedEndpoint
    );
    expect(endpoints.map(row)).toEqual([
      ['alice', 'endpoint.uses-tier', 'sensitive:medical', 'refused'],
      ['alice', 'endpoint.uses-tier', 'sensitive:medical', 'refused']
    ]);
    expect(endpoints.map(r => r.details.provider)).toEqual(['local', 'slurm']);
  });
});
