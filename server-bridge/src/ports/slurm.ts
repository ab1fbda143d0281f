import type { Partition } from '../contract';
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
}
