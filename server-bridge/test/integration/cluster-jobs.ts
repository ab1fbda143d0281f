/**
 * Jobs that tell which cluster ran them, for the tests of the stack's two clusters (demo,
 * profile cpu-small; demo2, profile cpu-demo2): the integration test and the fault test.
 */
import {
  ClusterListSchema,
  JobSchema,
  TERMINAL_JOB_STATES,
  type Cluster,
  type Job,
  type JobSubmit
} from '../../src/contract';
import { bridge, code, notebook, send } from './stack';

/** The stack's profile on each cluster. */
export const PROFILE_OF = { demo: 'cpu-small', demo2: 'cpu-demo2' } as const;
export type StackCluster = keyof typeof PROFILE_OF;

/**
 * A job that prints `probe <marker> cluster=<SLURM_CLUSTER_NAME> host=<hostname>` and, from
 * the SLURM CLI inside the job, `queue=<its own id and partition>`: the CLI of the node
 * must reach the cluster that runs the job.
 */
export function probeJob(
  cluster: StackCluster,
  marker: string,
  sleepSeconds = 0
): JobSubmit {
  const source = [
    'import os, socket, subprocess, time',
    `time.sleep(${sleepSeconds})`,
    "job = os.environ['SLURM_JOB_ID']",
    "queue = subprocess.run(['squeue', '-h', '-j', job, '-o', '%i:%P'],",
    '                       capture_output=True, text=True).stdout.strip()',
    `print('probe ${marker}', 'cluster=' + os.environ.get('SLURM_CLUSTER_NAME', '?'),`,
    "      'host=' + socket.gethostname(), 'queue=' + queue)"
  ].join('\n');
  return {
    name: `probe-${cluster}-${marker}`,
    notebook: {
      path: `clusters/probe-${marker}.ipynb`,
      content: notebook(code(source))
    },
    profile: PROFILE_OF[cluster]
  };
}

export async function submitted(token: string, body: JobSubmit): Promise<Job> {
  const res = await send(token, 'POST', '/api/v1/jobs', body);
  if (res.status !== 201) {
    throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return JobSchema.parse(res.body);
}

/** Polls the job until it has ended (bounded). */
export async function finished(
  token: string,
  id: string,
  timeoutMs = 150_000
): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await bridge(`/api/v1/jobs/${id}`, token);
    const job = res.status === 200 ? JobSchema.parse(res.body) : null;
    if (job !== null && TERMINAL_JOB_STATES.includes(job.state)) {
      return job;
    }
    if (Date.now() > deadline) {
      throw new Error(`job ${id} has not ended: ${JSON.stringify(res.body)}`);
    }
    await new Promise(r => setTimeout(r, 1_000));
  }
}

/** The job's standard output, as the log route serves it. */
export async function stdoutOf(token: string, id: string): Promise<string> {
  const res = await bridge(`/api/v1/jobs/${id}/log?stream=stdout`, token);
  if (res.status !== 200) {
    throw new Error(`log of ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return String(res.body);
}

/** The clusters as the bridge sees them now (no cached answer). */
export async function clustersNow(
  token: string
): Promise<Map<string, Cluster>> {
  const res = await bridge('/api/v1/clusters?refresh=true', token);
  if (res.status !== 200) {
    throw new Error(`clusters: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const { clusters } = ClusterListSchema.parse(res.body);
  return new Map(clusters.map(c => [c.name, c]));
}
