/**
 * Fault: the bridge is killed with SIGKILL while jobs run, two streamed uploads (S3 and
 * SFTP tiers) are half-way and a local endpoint serves (another one still starting). The
 * hub restarts its managed service; afterwards every job is still tracked to its end
 * state, no partial file is visible and a retry succeeds, every llama-server left
 * running belongs to a live replica (adopted or replaced, no orphan), and a trigger run
 * caught while it submits its job makes exactly one job for its file.
 */
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  EndpointSchema,
  FileListSchema,
  JobListSchema,
  Routes,
  TriggerRunListSchema,
  TriggerSchema,
  UploadResultSchema,
  type Endpoint,
  type Job
} from '../../src/contract';
import { STACK_DIR, bridge, createUserToken } from '../integration/stack';
import {
  code,
  ctl,
  duringFault,
  ended,
  eventually,
  processesOf,
  notebook,
  sleeper,
  stackOk,
  submitOk,
  waitForJob
} from './fault';
import { MIB, content, stalledUpload, type IInFlight } from './uploads';

jest.setTimeout(600_000);

const LLAMA = '/opt/hpc-bridge/llama/bin/llama-server';
const RUN = randomBytes(3).toString('hex');

let alice: string;
let bob: string;
const endpoints: string[] = [];
const uploads: IInFlight[] = [];

beforeAll(async () => {
  await stackOk();
  [alice, bob] = await Promise.all([
    createUserToken('alice'),
    createUserToken('bob')
  ]);
});

afterAll(async () => {
  for (const upload of uploads) {
    upload.abort();
  }
  for (const id of endpoints) {
    await bridge(Routes.endpoint(id), alice, { method: 'DELETE' });
  }
});

function bridgeS3(): S3Client {
  const creds = JSON.parse(
    readFileSync(join(STACK_DIR, 's3', 'credentials.json'), 'utf8')
  ) as Record<string, { accessKeyId: string; secretAccessKey: string }>;
  return new S3Client({
    endpoint: 'http://127.0.0.1:8080',
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: creds.bridge
  });
}

async function openMultipartUploads(key: string): Promise<number> {
  const s3 = bridgeS3();
  try {
    const out = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: 'hpc-archive', Prefix: key })
    );
    return (out.Uploads ?? []).filter(u => u.Key === key).length;
  } finally {
    s3.destroy();
  }
}

async function createEndpoint(name: string): Promise<Endpoint> {
  const res = await bridge(Routes.endpoints, alice, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      name,
      model: 'tiny-random',
      provider: 'local',
      resources: { gpus: 0 }
    })
  });
  expect(res.status).toBe(201);
  const ep = EndpointSchema.parse(res.body);
  endpoints.push(ep.id);
  return ep;
}

async function endpointOf(id: string): Promise<Endpoint> {
  const res = await bridge(Routes.endpoint(id), alice);
  if (res.status !== 200) {
    throw new Error(`endpoint ${id}: ${res.status}`);
  }
  return EndpointSchema.parse(res.body);
}

const replicaIdOfLog = (stdout: string): string | null =>
  /serving-local\/([^/]+)\.log$/.exec(stdout)?.[1] ?? null;

async function listing(token: string, tier: string): Promise<string[]> {
  const res = await bridge(`${Routes.tierFiles(tier)}?path=faults`, token);
  if (res.status === 404) {
    return [];
  }
  expect(res.status).toBe(200);
  return FileListSchema.parse(res.body).entries.map(e => e.name);
}

/** A trigger on a fresh project folder whose runs submit a job named `jobName`. */
async function watchFolder(folder: string, jobName: string): Promise<string> {
  const made = await bridge(Routes.tierMkdir('project'), alice, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ path: folder })
  });
  expect(made.status).toBe(201);
  const res = await bridge(Routes.triggers, alice, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      name: jobName,
      source: { kind: 'object.created', prefix: `project:${folder}/` },
      action: {
        kind: 'submit',
        job: {
          name: jobName,
          notebook: {
            path: `work/${jobName}.ipynb`,
            content: notebook(code("print('seen')"))
          },
          profile: 'cpu-small'
        }
      }
    })
  });
  expect(res.status).toBe(201);
  return TriggerSchema.parse(res.body).id;
}

async function runsOf(trigger: string) {
  const res = await bridge(Routes.triggerRuns(trigger), alice);
  if (res.status !== 200) {
    throw new Error(`runs of ${trigger}: ${res.status}`);
  }
  return TriggerRunListSchema.parse(res.body).runs;
}

/** The SLURM jobs of that name, as the accounting database knows them. */
function slurmJobsNamed(name: string): string[] {
  return execFileSync(
    'sacct',
    ['-a', '-X', '-n', '-P', `--name=${name}`, '--format=JobIDRaw'],
    { encoding: 'utf8' }
  )
    .split('\n')
    .filter(Boolean);
}

it('loses nothing when the bridge is killed with jobs running, uploads in flight and endpoints serving', async () => {
  // A serving endpoint, and jobs of two users (one ends while the bridge is down).
  const serving = await createEndpoint(`fault-serving-${RUN}`);
  const jobs: { token: string; job: Job }[] = [
    { token: alice, job: await submitOk(alice, sleeper(`fault-a-${RUN}`, 25)) },
    { token: bob, job: await submitOk(bob, sleeper(`fault-b-${RUN}`, 25)) },
    { token: alice, job: await submitOk(alice, sleeper(`fault-c-${RUN}`, 3)) }
  ];
  await waitForJob(alice, jobs[0].job.id, j => j.state === 'RUNNING');
  const ready = await eventually(
    'serving endpoint ready',
    async () => {
      const ep = await endpointOf(serving.id);
      return ep.state === 'ready' ? ep : undefined;
    },
    180_000
  );
  const before = new Set(ready.replicas.map(r => r.id));
  // One more endpoint that is still starting when the bridge dies.
  const starting = await createEndpoint(`fault-starting-${RUN}`);

  // Two uploads half-way: 24 of 64 MiB sent, then the client waits.
  const data = content(64 * MIB, RUN);
  const s3Path = `faults/crash-${RUN}.bin`;
  const sftpPath = `faults/crash-${RUN}.bin`;
  const s3Upload = stalledUpload(
    'archive',
    s3Path,
    alice,
    data.subarray(0, 24 * MIB),
    data.length
  );
  const sftpUpload = stalledUpload(
    'scratch',
    sftpPath,
    alice,
    data.subarray(0, 24 * MIB),
    data.length
  );
  uploads.push(s3Upload, sftpUpload);
  // The bridge has begun writing both: a PUT streaming into Swift (it reads only what it
  // can pass on), a temporary file on scratch.
  await eventually('S3 upload streaming', async () =>
    s3Upload.sent() >= 24 * MIB ? true : undefined
  );
  await eventually('SFTP temporary file begun', async () =>
    existsSync('/scratch/alice/faults') &&
    readdirSync('/scratch/alice/faults').some(n =>
      n.startsWith(`.crash-${RUN}.bin.hpc-upload-`)
    )
      ? true
      : undefined
  );
  for (const ep of await Promise.all(endpoints.map(endpointOf))) {
    for (const r of ep.replicas) {
      before.add(r.id);
    }
  }

  // A file lands in a watched folder: the bridge dies while the trigger run submits.
  const triggered = `fault-trig-${RUN}`;
  const trigger = await watchFolder(`ml101/faults-${RUN}`, triggered);
  const put = await bridge(
    `${Routes.tierContent('project')}?${new URLSearchParams({ path: `ml101/faults-${RUN}/in.bin`, overwrite: 'true' })}`,
    alice,
    {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: content(8 * MIB, RUN)
    }
  );
  expect(put.status).toBe(201);
  await eventually(
    'the trigger run claimed',
    async () =>
      (await runsOf(trigger)).some(r => r.state !== 'waiting')
        ? true
        : undefined,
    60_000,
    50
  );

  await duringFault('bridge', 'kill9', async () => {
    // Both uploads end without success (the proxy's error or a reset connection).
    for (const upload of [s3Upload, sftpUpload]) {
      const result = await upload.result;
      // An answer may come before the body is sent: close the request that still
      // waits on its stalled source (its socket would stay open until afterAll).
      upload.abort();
      expect('error' in result || result.status >= 500).toBe(true);
    }
  });
  expect(await ctl('pid', 'bridge')).toMatch(/^\d+$/);

  // Every job submitted before is still listed for its owner and reaches its end.
  for (const { token, job } of jobs) {
    const list = await bridge('/api/v1/jobs', token);
    expect(JobListSchema.parse(list.body).jobs.map(j => j.id)).toContain(
      job.id
    );
    const done = await waitForJob(token, job.id, ended);
    expect({ name: done.name, state: done.state }).toEqual({
      name: job.name,
      state: 'COMPLETED'
    });
  }

  // The run goes on after the restart: one run, one job, one SLURM job for the file.
  // An attempt that failed on the way is tried again after the stack's
  // triggers.retrySeconds (5 s, not the default minute).
  const [run] = await eventually(
    'the trigger run submitted its job',
    async () => {
      const runs = await runsOf(trigger);
      return runs.every(r => r.result?.jobId !== undefined) ? runs : undefined;
    },
    60_000
  );
  expect(run?.result?.jobId).toEqual(expect.any(String));
  const jobsOfRun = JobListSchema.parse(
    (await bridge(`/api/v1/jobs?name=${triggered}`, alice)).body
  ).jobs;
  expect(jobsOfRun.map(j => j.id)).toEqual([run?.result?.jobId]);
  // slurmdbd records a submitted job a moment later than squeue shows it.
  const recorded = await eventually(
    'the SLURM job in the accounting database',
    async () => {
      const ids = slurmJobsNamed(triggered);
      return ids.length > 0 ? ids : undefined;
    },
    60_000
  );
  expect(recorded).toHaveLength(1);

  // No partial file anywhere a user looks, and nothing half-written left in S3.
  for (const [tier, path] of [
    ['archive', s3Path],
    ['scratch', sftpPath]
  ] as const) {
    expect(await listing(alice, tier)).not.toContain(`crash-${RUN}.bin`);
    const stat = await bridge(
      `${Routes.tierStat(tier)}?${new URLSearchParams({ path })}`,
      alice
    );
    expect(stat.status).toBe(404);
  }
  await eventually(
    'no multipart upload left in S3',
    async () =>
      (await openMultipartUploads(`alice/${s3Path}`)) === 0 ? true : undefined,
    60_000
  );

  // A retry of each upload succeeds with the whole content.
  const sha = createHash('sha256').update(data).digest('hex');
  for (const [tier, path] of [
    ['archive', s3Path],
    ['scratch', sftpPath]
  ] as const) {
    const res = await bridge(
      `${Routes.tierContent(tier)}?${new URLSearchParams({ path })}`,
      alice,
      {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: data
      }
    );
    expect(res.status).toBe(201);
    expect(UploadResultSchema.parse(res.body).sha256).toBe(sha);
    expect(await listing(alice, tier)).toContain(`crash-${RUN}.bin`);
    await bridge(
      `${Routes.tierFiles(tier)}?${new URLSearchParams({ path })}`,
      alice,
      { method: 'DELETE' }
    );
  }

  // Both endpoints serve again; every llama-server of their replicas, before or after,
  // is a live replica the bridge knows (adopted or replaced: no orphan).
  const after = await Promise.all(
    [serving.id, starting.id].map(id =>
      eventually(
        `endpoint ${id} ready after the restart`,
        async () => {
          const ep = await endpointOf(id);
          return ep.state === 'ready' ? ep : undefined;
        },
        180_000
      )
    )
  );
  const live = new Map<string, string | null>();
  for (const ep of after) {
    for (const r of ep.replicas) {
      before.add(r.id);
      if (r.state === 'ready' || r.state === 'starting') {
        live.set(r.id, r.ref);
      }
    }
  }
  const running = processesOf(LLAMA)
    .map(p => ({ pid: p.pid, replica: replicaIdOfLog(p.stdout) }))
    .filter(p => p.replica !== null && before.has(p.replica));
  expect(running.map(p => p.replica).sort()).toEqual([...live.keys()].sort());
  for (const p of running) {
    expect(String(p.pid)).toBe(live.get(p.replica ?? ''));
  }
});
