/** Cluster kernels over SSH as the user: sbatch from stdin, the runtime folder, socket relay. */
import type { Duplex } from 'node:stream';
import type { IUserKernelPort } from '../../ports/slurm';
import type { SshConnection } from './client';
import { parseSbatchParsable } from './queue';
import { SlurmCommandError } from './slurm';

/** What removeDir accepts: an absolute path below a `.hpc-bridge/kernels/` folder. */
const RUNTIME_DIR =
  /^(\/[A-Za-z0-9._+-]+)+\/\.hpc-bridge\/kernels\/[a-f0-9]{12}$/;

/** Node names as SLURM prints them; anything else is never connected to. */
const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export class SshKernels implements IUserKernelPort {
  /**
   * `nodes`: the user's connection to a compute node (through the login node); absent
   * when the cluster's sockets are reached on the login node.
   */
  constructor(
    private readonly conn: SshConnection,
    private readonly nodes?: (node: string) => SshConnection
  ) {}

  async submitScript(script: string, workdir: string): Promise<string> {
    const argv = ['sbatch', '--parsable', `--chdir=${workdir}`];
    const result = await this.conn.exec(argv, {
      stdin: script,
      timeoutMs: 30_000
    });
    if (result.code !== 0) {
      throw new SlurmCommandError(argv, result);
    }
    return parseSbatchParsable(result.stdout);
  }

  async removeDir(path: string): Promise<void> {
    if (!RUNTIME_DIR.test(path) || path.split('/').includes('..')) {
      throw new Error(`not a kernel runtime folder: ${path}`);
    }
    const argv = ['rm', '-rf', '--', path];
    const result = await this.conn.exec(argv, { timeoutMs: 30_000 });
    if (result.code !== 0) {
      throw new SlurmCommandError(argv, result);
    }
  }

  async prepareNode(node: string): Promise<void> {
    if (this.nodes !== undefined && NODE_NAME.test(node)) {
      await this.nodes(node).warm();
    }
  }

  openSocket(path: string, node: string | null): Promise<Duplex> {
    if (this.nodes === undefined) {
      return this.conn.openStreamLocal(path);
    }
    if (node === null || !NODE_NAME.test(node)) {
      throw new Error(`not a compute node name: ${String(node)}`);
    }
    return this.nodes(node).openStreamLocal(path);
  }
}
