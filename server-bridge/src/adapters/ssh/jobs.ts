/**
 * SLURM job commands and files over SSH: the service account's whole-queue reads for the
 * poller, and the user's own submit/cancel/hold/release and SFTP.
 */
import type {
  IAccountingRecord,
  IClusterFilesPort,
  IFileToWrite,
  IQueuePort,
  IQueueRecord,
  ITestOnlyResult,
  IUserClusterPort,
  IUserSlurmPort
} from '../../ports/slurm';
import type { SshConnection } from './client';
import {
  parseJobsIn,
  parseSacct,
  parseSbatchParsable,
  parseSqueue,
  parseTestOnly,
  SACCT_FIELDS
} from './queue';
import * as sftp from './sftp';
import { squeueFailure } from './queue';
import { SlurmCommandError } from './slurm';
import { sftpStorage } from './storage';
import { SshKernels } from './kernels';

const SLURM_ID = /^\d+(_\d+)?$/;

function checkId(id: string): string {
  if (!SLURM_ID.test(id)) {
    throw new Error(`not a SLURM job id: ${id}`);
  }
  return id;
}

async function run(
  conn: SshConnection,
  argv: string[],
  options: { stdin?: string; timeoutMs?: number } = {}
): Promise<{ stdout: string; stderr: string }> {
  const result = await conn.exec(argv, {
    timeoutMs: options.timeoutMs ?? 30_000,
    ...(options.stdin === undefined ? {} : { stdin: options.stdin })
  });
  if (result.code !== 0) {
    throw new SlurmCommandError(argv, result);
  }
  return result;
}

export class SshQueue implements IQueuePort {
  constructor(private readonly conn: SshConnection) {}

  async queue(): Promise<IQueueRecord[]> {
    const argv = ['squeue', '--json'];
    const result = await run(this.conn, argv);
    const json: unknown = JSON.parse(result.stdout);
    // Without its controller, squeue --json exits 0 with an empty queue and an error
    // entry: taken as it is, every running job would look gone from the queue.
    const failure = squeueFailure(json);
    if (failure !== null) {
      throw new SlurmCommandError(argv, {
        code: 1,
        signal: null,
        stdout: result.stdout,
        stderr: `Unable to contact slurm controller: ${failure}`
      });
    }
    return parseSqueue(json);
  }

  async accounting(jobIds: readonly string[]): Promise<IAccountingRecord[]> {
    if (jobIds.length === 0) {
      return [];
    }
    const { stdout } = await run(this.conn, [
      'env',
      'SLURM_TIME_FORMAT=%s',
      'sacct',
      '--allusers',
      '--parsable2',
      '--noheader',
      `--format=${SACCT_FIELDS.join(',')}`,
      '-j',
      jobIds.map(checkId).join(',')
    ]);
    return parseSacct(stdout);
  }
}

export class SshUserSlurm implements IUserSlurmPort {
  constructor(private readonly conn: SshConnection) {}

  async submit(scriptPath: string, workdir: string): Promise<string> {
    const { stdout } = await run(this.conn, [
      'sbatch',
      '--parsable',
      `--chdir=${workdir}`,
      scriptPath
    ]);
    return parseSbatchParsable(stdout);
  }

  async testOnly(script: string, workdir: string): Promise<ITestOnlyResult> {
    const result = await this.conn.exec(
      ['env', 'TZ=UTC', 'sbatch', '--test-only', `--chdir=${workdir}`],
      { stdin: script, timeoutMs: 30_000 }
    );
    if (result.code !== 0) {
      throw new SlurmCommandError(['sbatch', '--test-only'], result);
    }
    return parseTestOnly(result.stderr);
  }

  async cancel(slurmId: string): Promise<void> {
    await run(this.conn, ['scancel', checkId(slurmId)]);
  }

  async jobsIn(workdir: string, since: Date): Promise<string[]> {
    // -S is read in the cluster's time zone: a day earlier covers every offset.
    const start = new Date(since.getTime() - 24 * 3600 * 1000)
      .toISOString()
      .slice(0, 19);
    const accounted = await run(this.conn, [
      'sacct',
      '-X',
      '--noheader',
      '--parsable2',
      '--format=JobID,WorkDir',
      '-S',
      start
    ]);
    const queued = await run(this.conn, [
      'squeue',
      '--me',
      '--noheader',
      '--format=%F|%Z'
    ]);
    return [
      ...new Set([
        ...parseJobsIn(accounted.stdout, workdir),
        ...parseJobsIn(queued.stdout, workdir)
      ])
    ];
  }

  async hold(slurmId: string): Promise<void> {
    await run(this.conn, ['scontrol', 'hold', checkId(slurmId)]);
  }

  async release(slurmId: string): Promise<void> {
    await run(this.conn, ['scontrol', 'release', checkId(slurmId)]);
  }
}

/**
 * Home directories by connection: a session object lives for one request, the pooled
 * connection of its (cluster, user) for the bridge's life, so every submit does not pay
 * an SFTP channel (an sftp-server process on the login node) just to learn it.
 */
const homes = new WeakMap<SshConnection, string>();

export class SftpFiles implements IClusterFilesPort {
  constructor(private readonly conn: SshConnection) {}

  async home(): Promise<string> {
    let home = homes.get(this.conn);
    if (home === undefined) {
      home = await this.conn.withSftp(s => sftp.realpath(s, '.'));
      homes.set(this.conn, home);
    }
    return home;
  }

  mkdirp(path: string): Promise<void> {
    return this.conn.withSftp(s => sftp.mkdirp(s, path));
  }

  writeFile(path: string, data: string | Buffer, mode = 0o600): Promise<void> {
    return this.conn.withSftp(s => sftp.writeFileAtomic(s, path, data, mode));
  }

  readFile(path: string, limit: number): Promise<Buffer | null> {
    return this.conn.withSftp(s => sftp.readFileLimited(s, path, limit));
  }

  readRange(
    path: string,
    offset: number,
    length: number
  ): Promise<Buffer | null> {
    return this.conn.withSftp(s => sftp.readRange(s, path, offset, length));
  }

  size(path: string): Promise<number | null> {
    return this.conn.withSftp(s => sftp.sizeOf(s, path));
  }

  writeAll(
    dirs: readonly string[],
    files: readonly IFileToWrite[]
  ): Promise<void> {
    return this.conn.withSftp(async s => {
      for (const dir of dirs) {
        await sftp.mkdirp(s, dir);
      }
      for (const f of files) {
        await sftp.writeFileAtomic(s, f.path, f.data, f.mode ?? 0o600);
      }
    });
  }
}

/** `nodes`: see SshKernels. */
export function sshUserCluster(
  conn: SshConnection,
  nodes?: (node: string) => SshConnection
): IUserClusterPort {
  return {
    slurm: new SshUserSlurm(conn),
    files: new SftpFiles(conn),
    storage: root => sftpStorage(conn, root),
    kernels: new SshKernels(conn, nodes)
  };
}
