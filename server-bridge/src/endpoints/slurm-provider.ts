/**
 * The `slurm` serving provider: each replica is one long batch job run as the endpoint's
 * owner (sbatch over the owner's SSH session, like notebook jobs). The replica's key goes
 * to `upstream.key` (mode 0600) in its working directory over SFTP, never into the
 * script or a command line. The job picks a free port, writes `replica.json`
 * ({host, port}) to its working directory and execs the recipe; the bridge reads that file over SFTP as the owner. Job states come from the
 * service account's `squeue` (one read per few seconds for all replicas) and `sacct`.
 */
import type { ClusterConfig } from '../config';
import type { IClusterAccess } from '../credentials/access';
import type { IBatchScripts, IQueuePort, IQueueRecord } from '../ports/slurm';
import { z } from 'zod';
import type {
  IProviderReplica,
  IReplicaHandle,
  IReplicaSpec,
  IServingProvider,
  ReplicaStatus
} from './ports';
import { keyEnvironment } from './recipe';

export interface ISlurmProviderOptions {
  cluster: ClusterConfig;
  partition: string;
  /** Replica working directories, relative to the owner's home. */
  root: string;
  access: IClusterAccess;
  /** Renders the replica's batch script (the cluster adapter's). */
  scripts: IBatchScripts;
  /** The service account's queue reads. */
  queue: IQueuePort;
  /** How long one queue read serves status calls; default 2000 ms. */
  queueCacheMs?: number;
  now?: () => number;
}

/** Job names: `hpcb-ep-<endpoint>-<replica>` (ids are hex). */
const JOB_NAME = /^hpcb-ep-([0-9a-f]+)-([0-9a-f]+)$/;

const ReplicaJsonSchema = z.object({
  host: z.string().regex(/^[A-Za-z0-9.:-]+$/),
  port: z.number().int().min(1).max(65535)
});

const PENDING_STATES = new Set([
  'PENDING',
  'CONFIGURING',
  'REQUEUED',
  'RESIZING',
  'SUSPENDED'
]);
const ENDED_OK = new Set(['COMPLETED', 'CANCELLED', 'TIMEOUT', 'PREEMPTED']);

interface IRef {
  cluster: string;
  slurmId: string;
  workdir: string;
  owner: string;
  timeMinutes: number;
  submittedAt: number;
}

function refOf(handle: IReplicaHandle): IRef {
  const r = handle.ref;
  return {
    cluster: String(r.cluster),
    slurmId: String(r.slurmId),
    workdir: String(r.workdir),
    owner: String(r.owner),
    timeMinutes: Number(r.timeMinutes),
    submittedAt: Number(r.submittedAt)
  };
}

/** The hub user of a cluster account under `userMapping` (for jobs found in the queue). */
export function hubUserOf(
  mapping: ClusterConfig['userMapping'],
  clusterUser: string
): string | null {
  if ('table' in mapping) {
    const hit = Object.entries(mapping.table).find(
      ([, account]) => account === clusterUser
    );
    return hit?.[0] ?? null;
  }
  const [before = '', after = ''] = mapping.template.split('{user}');
  if (
    clusterUser.startsWith(before) &&
    clusterUser.endsWith(after) &&
    clusterUser.length > before.length + after.length
  ) {
    return clusterUser.slice(before.length, clusterUser.length - after.length);
  }
  return null;
}

export class SlurmProvider implements IServingProvider {
  readonly name = 'slurm';
  private snapshot: { at: number; jobs: Promise<IQueueRecord[]> } | null = null;
  /** replica.json, once read, per replica. */
  private readonly addresses = new Map<
    string,
    { host: string; port: number }
  >();
  private readonly now: () => number;

  constructor(private readonly options: ISlurmProviderOptions) {
    this.now = options.now ?? Date.now;
  }

  private get cluster() {
    return this.options.cluster;
  }

  private queue(): Promise<IQueueRecord[]> {
    const now = this.now();
    if (
      this.snapshot === null ||
      now - this.snapshot.at >= (this.options.queueCacheMs ?? 2000)
    ) {
      const jobs = this.options.queue.queue();
      this.snapshot = { at: now, jobs };
      jobs.catch(() => {
        if (this.snapshot?.jobs === jobs) {
          this.snapshot = null;
        }
      });
    }
    return this.snapshot.jobs;
  }

  async start(spec: IReplicaSpec): Promise<IReplicaHandle> {
    const jobName = `hpcb-ep-${spec.endpointId}-${spec.replicaId}`;
    if (!JOB_NAME.test(jobName)) {
      throw new Error(`invalid endpoint or replica id for a job name`);
    }
    const { slurmId, workdir } = await this.options.access.run(
      this.cluster.name,
      spec.owner,
      async s => {
        const home = await s.files.home();
        const workdir = `${home.replace(/\/+$/, '')}/${this.options.root}/${spec.replicaId}`;
        const keyFile = `${workdir}/upstream.key`;
        // checks the name and the key's form
        keyEnvironment(spec.keyEnv, spec.upstreamKey);
        const script = this.options.scripts.replica({
          jobName,
          workdir,
          partition: this.options.partition,
          resources: spec.resources,
          argv: spec.argv,
          env: spec.env ?? {},
          python: this.cluster.jobs.python,
          key: { env: spec.keyEnv, file: keyFile }
        });
        await s.files.writeAll(
          [workdir],
          [
            { path: keyFile, data: `${spec.upstreamKey}\n`, mode: 0o600 },
            { path: `${workdir}/replica.sbatch`, data: script, mode: 0o700 }
          ]
        );
        const slurmId = await s.slurm.submit(
          `${workdir}/replica.sbatch`,
          workdir
        );
        return { slurmId, workdir };
      }
    );
    this.snapshot = null;
    return {
      provider: this.name,
      replicaId: spec.replicaId,
      ref: {
        cluster: this.cluster.name,
        slurmId,
        workdir,
        owner: spec.owner,
        timeMinutes: spec.resources.timeMinutes,
        submittedAt: this.now()
      }
    };
  }

  async status(handle: IReplicaHandle): Promise<ReplicaStatus> {
    const ref = refOf(handle);
    const job = (await this.queue()).find(j => j.key === ref.slurmId);
    const snapshotAt = this.snapshot?.at ?? 0;
    if (
      (job === undefined && snapshotAt < ref.submittedAt) ||
      (job !== undefined && PENDING_STATES.has(job.state))
    ) {
      // The queue snapshot may be seconds old (or older than the job): a job that
      // started since has written its address, which one file read tells sooner than
      // the next squeue.
      const started = await this.address(handle.replicaId, ref);
      if (started !== null) {
        // The job started after its submit: its time limit ends no earlier than this
        // (a handover planned from it comes early rather than late).
        const endsAt = new Date(ref.submittedAt + ref.timeMinutes * 60_000);
        return { state: 'running', ...started, endsAt };
      }
    }
    if (job !== undefined) {
      if (PENDING_STATES.has(job.state)) {
        return {
          state: 'pending',
          detail: `job ${ref.slurmId} ${job.state.toLowerCase()}${job.reason === null ? '' : ` (${job.reason})`}`
        };
      }
      if (job.state === 'RUNNING') {
        const address = await this.address(handle.replicaId, ref);
        if (address === null) {
          return {
            state: 'pending',
            detail: `job ${ref.slurmId} running on ${job.node ?? '?'}, waiting for its address`
          };
        }
        const endsAt =
          job.endTime > 0
            ? new Date(job.endTime * 1000)
            : job.startTime > 0
              ? new Date((job.startTime + ref.timeMinutes * 60) * 1000)
              : null;
        return { state: 'running', ...address, endsAt };
      }
    }
    return this.ended(ref, job?.state ?? null);
  }

  async endedReason(handle: IReplicaHandle): Promise<string | null> {
    // The cached queue may predate the end (a scancel a moment ago).
    this.snapshot = null;
    const status = await this.status(handle);
    return status.state === 'failed' || status.state === 'gone'
      ? (status.reason ?? null)
      : null;
  }

  private async address(
    replicaId: string,
    ref: IRef
  ): Promise<{ host: string; port: number } | null> {
    const known = this.addresses.get(replicaId);
    if (known !== undefined) {
      return known;
    }
    const data = await this.options.access.run(ref.cluster, ref.owner, s =>
      s.files.readFile(`${ref.workdir}/replica.json`, 4096)
    );
    if (data === null) {
      return null;
    }
    const parsed = ReplicaJsonSchema.safeParse(
      JSON.parse(data.toString('utf8'))
    );
    if (!parsed.success) {
      throw new Error(`replica.json of ${replicaId} is not {host, port}`);
    }
    this.addresses.set(replicaId, parsed.data);
    return parsed.data;
  }

  /** A job no longer running: accounting says how it ended. */
  private async ended(
    ref: IRef,
    queueState: string | null
  ): Promise<ReplicaStatus> {
    const [acct] = await this.options.queue.accounting([ref.slurmId]);
    const state = acct?.state ?? queueState;
    if (state === null || state === undefined) {
      return this.now() - ref.submittedAt < 60_000
        ? { state: 'pending', detail: `job ${ref.slurmId} submitted` }
        : { state: 'gone', reason: `job ${ref.slurmId} is not known to SLURM` };
    }
    if (PENDING_STATES.has(state) || state === 'RUNNING') {
      return {
        state: 'pending',
        detail: `job ${ref.slurmId} ${state.toLowerCase()}`
      };
    }
    const base = state.split(' ')[0] ?? state;
    const what = `job ${ref.slurmId} ${base}${acct?.exitCode ? ` (exit ${acct.exitCode})` : ''}`;
    if (ENDED_OK.has(base) || base === 'COMPLETING') {
      return { state: 'gone', reason: what };
    }
    const tail = await this.logTail(ref).catch(() => '');
    return { state: 'failed', reason: tail === '' ? what : `${what}: ${tail}` };
  }

  private async logTail(ref: IRef): Promise<string> {
    return this.options.access.run(ref.cluster, ref.owner, async s => {
      const path = `${ref.workdir}/server.log`;
      const size = await s.files.size(path);
      if (size === null) {
        return '';
      }
      const length = Math.min(size, 2048);
      const data = await s.files.readRange(path, size - length, length);
      return (data?.toString('utf8') ?? '')
        .split('\n')
        .map(l => l.trimEnd())
        .filter(l => l !== '')
        .slice(-5)
        .join(' | ');
    });
  }

  async stop(handle: IReplicaHandle): Promise<void> {
    const ref = refOf(handle);
    const job = (await this.queue()).find(j => j.key === ref.slurmId);
    if (job === undefined) {
      return;
    }
    try {
      await this.options.access.run(ref.cluster, ref.owner, s =>
        s.slurm.cancel(ref.slurmId)
      );
    } catch (e) {
      // Ended meanwhile (scancel: "Invalid job id"): fine; otherwise report it.
      this.snapshot = null;
      if (
        (await this.queue()).some(
          j => j.key === ref.slurmId && j.state !== 'COMPLETING'
        )
      ) {
        throw e;
      }
    }
    this.snapshot = null;
    this.addresses.delete(handle.replicaId);
  }

  async list(): Promise<IProviderReplica[]> {
    this.snapshot = null;
    const out: IProviderReplica[] = [];
    for (const job of await this.queue()) {
      const m = JOB_NAME.exec(job.name ?? '');
      if (m === null || ['COMPLETED', 'CANCELLED'].includes(job.state)) {
        continue;
      }
      const owner = hubUserOf(this.cluster.userMapping, job.user);
      if (owner === null) {
        continue;
      }
      out.push({
        endpointId: m[1] ?? '',
        owner,
        handle: {
          provider: this.name,
          replicaId: m[2] ?? '',
          ref: {
            cluster: this.cluster.name,
            slurmId: job.key,
            workdir: '',
            owner,
            timeMinutes: 0,
            submittedAt: job.submitTime * 1000
          }
        }
      });
    }
    return out;
  }
}
