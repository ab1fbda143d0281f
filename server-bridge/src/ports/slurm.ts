import {
  JobStateSchema,
  type JobState,
  type Partition,
  type Resources
} from '../contract';
import type { IReplicaResources } from '../endpoints/ports';
import type { Duplex } from 'node:stream';
import type { IStoragePort } from './storage';

/** What the bridge needs from a SLURM cluster (for now: reads). */
export interface ISlurmPort {
  /** Partitions with node/CPU/GPU totals and idle counts. */
  partitions(): Promise<Partition[]>;
  /** Checks the transport (`ssh`) and the controller (`slurmctld`) separately. */
  ping(): Promise<ISlurmPing>;
  /** Releases connections; the port may be used again afterwards. */
  close(): Promise<void>;
}

export interface ISlurmPing {
  ssh: { ok: boolean; detail?: string };
  slurmctld: { ok: boolean; detail?: string };
  /** `sbatch --test-only`: slurmctld would accept a job (checked once it answers pings). */
  submit?: { ok: boolean; detail?: string };
  /** An SFTP session and a stat of the home folder, as uploads and outputs need. */
  sftp?: { ok: boolean; detail?: string };
}

/** One line of the queue (`squeue --json`), a pending array range expanded per index. */
export interface IQueueRecord {
  /** `123` for a plain job, `123_4` for element 4 of array 123. */
  key: string;
  /** SLURM's own id of this record (array elements get their own once they start). */
  jobId: number;
  /** The array's id, or the job id for a plain job. */
  baseId: number;
  /** The job name (`--job-name`); '' when unknown. */
  name?: string;
  state: string;
  reason: string | null;
  node: string | null;
  partition: string;
  priority: number;
  user: string;
  submitTime: number;
  /** Epoch seconds; 0 when unknown. */
  startTime: number;
  endTime: number;
  /** Raw wait status as squeue prints it (`768` = exit 3). */
  exitStatus: number | null;
}

/** One job or array element from accounting (`sacct`), steps folded in. */
export interface IAccountingRecord {
  key: string;
  state: string;
  reason: string | null;
  node: string | null;
  /** `exit:signal`. */
  exitCode: string | null;
  elapsedSeconds: number | null;
  startTime: number | null;
  endTime: number | null;
  maxRssMB: number | null;
}

/** What the event poller reads with the read-only service account: the whole queue. */
export interface IQueuePort {
  queue(): Promise<IQueueRecord[]>;
  /** Accounting records of the given job ids (an array id brings all its elements). */
  accounting(jobIds: readonly string[]): Promise<IAccountingRecord[]>;
}

export interface ITestOnlyResult {
  expectedStart: string | null;
  message: string;
}

/** SLURM commands run as the user's own cluster account. */
export interface IUserSlurmPort {
  /** `sbatch --parsable SCRIPT` → the job id (the array id for arrays). */
  submit(scriptPath: string, workdir: string): Promise<string>;
  /** `sbatch --test-only` with the script on stdin. */
  testOnly(script: string, workdir: string): Promise<ITestOnlyResult>;
  cancel(slurmId: string): Promise<void>;
  /**
   * Ids of the user's jobs submitted since `since` whose working directory is `workdir`
   * (accounting and the queue together; array elements folded into their array's id).
   */
  jobsIn(workdir: string, since: Date): Promise<string[]>;
  hold(slurmId: string): Promise<void>;
  release(slurmId: string): Promise<void>;
}

/** Files in the user's cluster account (SFTP as the user). Paths are absolute. */
export interface IClusterFilesPort {
  home(): Promise<string>;
  mkdirp(path: string): Promise<void>;
  writeFile(path: string, data: string | Buffer, mode?: number): Promise<void>;
  /** Null when missing; throws beyond `limit` bytes. */
  readFile(path: string, limit: number): Promise<Buffer | null>;
  /** Null when missing. */
  readRange(
    path: string,
    offset: number,
    length: number
  ): Promise<Buffer | null>;
  size(path: string): Promise<number | null>;
  /** Creates `dirs` (mkdir -p) and writes `files` atomically, in one session. */
  writeAll(
    dirs: readonly string[],
    files: readonly IFileToWrite[]
  ): Promise<void>;
}

export interface IFileToWrite {
  path: string;
  data: string | Buffer;
  /** Default 0600. */
  mode?: number;
}

/** Everything the bridge does on a cluster as one user. */
export interface IUserClusterPort {
  slurm: IUserSlurmPort;
  files: IClusterFilesPort;
  /** A storage port on the absolute directory `root` (a tier such as `/scratch/alice`). */
  storage(root: string): IStoragePort;
  /** Cluster kernels' jobs and channels (absent: this cluster has none). */
  kernels?: IUserKernelPort;
}

/** What cluster kernels need as the user beyond files and scancel. */
export interface IUserKernelPort {
  /** `sbatch --parsable --chdir=WORKDIR` with `script` on stdin → the job id. */
  submitScript(script: string, workdir: string): Promise<string>;
  /** `rm -rf` of a kernel's runtime folder (an absolute path the domain checked). */
  removeDir(path: string): Promise<void>;
  /**
   * A byte stream to the Unix socket `path` on compute node `node` where the cluster
   * reaches nodes over SSH, else on the login node (`direct-streamlocal@openssh.com`); it
   * ends when either side closes.
   */
  openSocket(path: string, node: string | null): Promise<Duplex>;
  /**
   * Opens what `openSocket` will need for `node` ahead of time (an SSH connection to the
   * node), while the kernel starts there; resolves either way.
   */
  prepareNode?(node: string): Promise<void>;
}

/** A kernel job's batch script: runs ipykernel with the connection file of `runtimeDir`. */
export interface IKernelScriptOptions {
  jobName: string;
  /** Absolute path of the kernel's 0700 runtime folder (its working directory). */
  runtimeDir: string;
  /** Absolute path of the connection file in it (written 0600 before sbatch). */
  connectionFile: string;
  partition: string;
  resources: Resources;
  python: string;
  env?: Readonly<Record<string, string>>;
  /** A course's SLURM reservation; null or absent: none. */
  reservation?: string | null;
}

export type KernelScript = (options: IKernelScriptOptions) => string;

/** A notebook job's batch script (`job.sbatch`). */
export interface IBatchScriptOptions {
  /** Already valid per JobNameSchema. */
  jobName: string;
  /** Absolute path of the job's working directory on the cluster. */
  workdir: string;
  partition: string;
  resources: Resources;
  /** Number of array elements (index 0…n-1); null for a single job. */
  arraySize: number | null;
  /** Absolute path of the cluster's Python that has nbclient. */
  python: string;
  /** Exported before the runner starts (e.g. `HPCB_TIER_SCRATCH`); names `[A-Z_][A-Z0-9_]*`. */
  env?: Readonly<Record<string, string>>;
  /** A SLURM reservation (`--reservation`; a course's job profile); null: none. */
  reservation?: string | null;
  /** A folder per element for the job's declared outputs; null or absent: none. */
  outputDir?: IOutputDirOptions | null;
  /** Exported for one element only: variable → its value for element i (at index i). */
  elementEnv?: Readonly<Record<string, readonly string[]>>;
  /**
   * Absolute path of a file (mode 0600, rendered by `secretEnv`) the script sources
   * before the runner starts: variables whose values must not be in the script, which
   * slurmctld keeps. Null or absent: none.
   */
  secretsFile?: string | null;
}

/**
 * Exported as `variable` = `<root>/<array index>` (created), and each entry as
 * `<that folder>/<name>` (created when `folder`; else the file the job writes).
 */
export interface IOutputDirOptions {
  variable: string;
  /** Absolute path. */
  root: string;
  entries: readonly { variable: string; name: string; folder: boolean }[];
}

/** A slurm replica's batch script (`replica.sbatch`). */
export interface IReplicaScriptOptions {
  jobName: string;
  /** Absolute path of the replica's working directory on the cluster. */
  workdir: string;
  partition: string;
  resources: IReplicaResources;
  /** The recipe's argv with `{host}`/`{port}` left in. */
  argv: readonly string[];
  /** Absolute path of the cluster's Python (picks the free port). */
  python: string;
  /** `#SBATCH --comment` (letters, digits, "_", "-", "."); optional. */
  comment?: string;
  /** Exported before the recipe starts (where the endpoint's storage tiers are). */
  env?: Readonly<Record<string, string>>;
  /** The variable the recipe reads its key from, and the file (mode 0600) holding it. */
  key: { env: string; file: string };
}

/**
 * The batch scripts sbatch runs, rendered by the adapter that knows the shell: the domain
 * hands it values, never strings to quote. Each throws on a value outside its safe form.
 */
export interface IBatchScripts {
  notebookJob(options: IBatchScriptOptions): string;
  replica(options: IReplicaScriptOptions): string;
  /** The content of a secrets file that a script sources: `export NAME=VALUE` lines. */
  secretEnv(env: Readonly<Record<string, string>>): string;
}

/** SLURM names that are the contract's own (all but the bridge's SUBMITTED and UNKNOWN). */
const DIRECT: ReadonlySet<string> = new Set<JobState>(
  JobStateSchema.options.filter(s => s !== 'SUBMITTED' && s !== 'UNKNOWN')
);

/** SLURM's state names → the contract's; rare transitional states fold into the nearest. */
export function mapSlurmState(state: string): JobState {
  const s = state.toUpperCase().split(/[\s+]/)[0] ?? '';
  if (DIRECT.has(s)) {
    return s as JobState;
  }
  switch (s) {
    case 'CONFIGURING':
    case 'REQUEUED':
    case 'REQUEUE_HOLD':
    case 'REQUEUE_FED':
    case 'RESV_DEL_HOLD':
      return 'PENDING';
    case 'STOPPED':
      return 'SUSPENDED';
    case 'SIGNALING':
    case 'STAGE_OUT':
    case 'RESIZING':
      return 'RUNNING';
    case 'OOM':
      return 'OUT_OF_MEMORY';
    default:
      return 'UNKNOWN';
  }
}

/** squeue's raw wait status → `exit:signal`. */
export function exitCodeOf(status: number): string {
  return `${(status >> 8) & 0xff}:${status & 0x7f}`;
}
