/** ISlurmPort over SSH: runs the SLURM client commands on the cluster's login node. */
import type { Partition } from '../../contract';
import type { ISlurmPing, ISlurmPort } from '../../ports/slurm';
import type { SFTPWrapper } from 'ssh2';
import { SshError, type SshConnection, type IExecResult } from './client';
import { aggregatePartitions, parsePartitionInfo } from './sinfo';

/** What SLURM's clients print when slurmctld is down or overloaded. */
const CONTROLLER_DOWN =
  /Unable to contact slurm controller|Socket timed out on send\/recv|Slurm temporarily unable to accept job|Zero Bytes were transmitted or received|Connection refused.*slurmctld|slurm_load_\w+ error: Unable to contact/i;

export class SlurmCommandError extends Error {
  constructor(argv: readonly string[], result: IExecResult) {
    const why =
      result.stderr.trim().split('\n').slice(-3).join(' | ') ||
      `exit ${result.code ?? result.signal ?? '?'}`;
    super(`${argv.join(' ')} failed: ${why}`);
    this.name = 'SlurmCommandError';
    this.controllerDown = CONTROLLER_DOWN.test(result.stderr);
  }

  /** True when the command failed because slurmctld did not answer, not because of the request. */
  readonly controllerDown: boolean;
}

export class SshSlurm implements ISlurmPort {
  constructor(
    private readonly conn: SshConnection,
    private readonly timeoutMs = 20_000
  ) {}

  private async run(argv: string[]): Promise<string> {
    const result = await this.conn.exec(argv, { timeoutMs: this.timeoutMs });
    if (result.code !== 0) {
      throw new SlurmCommandError(argv, result);
    }
    return result.stdout;
  }

  async partitions(): Promise<Partition[]> {
    const [sinfo, scontrol] = await Promise.all([
      this.run(['sinfo', '--json']),
      this.run(['scontrol', 'show', 'partition', '--oneliner'])
    ]);
    let json: unknown;
    try {
      json = JSON.parse(sinfo);
    } catch {
      throw new Error('sinfo --json did not print JSON');
    }
    return aggregatePartitions(json, parsePartitionInfo(scontrol));
  }

  async ping(): Promise<ISlurmPing> {
    try {
      await this.conn.connect();
    } catch (e) {
      const detail = (e as Error).message;
      return {
        ssh: { ok: false, detail },
        slurmctld: { ok: false, detail: 'not checked: no ssh session' }
      };
    }
    try {
      const out = await this.run(['scontrol', 'ping']);
      const up = /\bis UP\b/.test(out) && !/\bis DOWN\b/.test(out);
      const [submit, sftp] = await Promise.all([
        up
          ? this.outcome(() =>
              this.run(['sbatch', '--test-only', '--wrap=true', '--time=1'])
            )
          : Promise.resolve({
              ok: false,
              detail: 'not checked: slurmctld down'
            }),
        this.outcome(() => this.conn.withSftp(sftp => statHome(sftp)))
      ]);
      return {
        ssh: { ok: true },
        slurmctld: up ? { ok: true } : { ok: false, detail: out.trim() },
        submit,
        sftp
      };
    } catch (e) {
      const ssh =
        e instanceof SshError && e.stage === 'connect'
          ? { ok: false, detail: e.message }
          : { ok: true };
      return { ssh, slurmctld: { ok: false, detail: (e as Error).message } };
    }
  }

  private async outcome(
    check: () => Promise<unknown>
  ): Promise<{ ok: boolean; detail?: string }> {
    try {
      await check();
      return { ok: true };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  }

  async close(): Promise<void> {
    this.conn.close();
  }
}

function statHome(sftp: SFTPWrapper): Promise<void> {
  return new Promise((resolve, reject) =>
    sftp.stat('.', error =>
      error
        ? reject(
            new Error(`sftp stat of the home folder failed: ${error.message}`)
          )
        : resolve()
    )
  );
}
