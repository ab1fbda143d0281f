/**
 * The batch script of a cluster kernel: exports the kernel's tiers, then execs ipykernel
 * on the connection file the bridge wrote (0600, in the 0700 runtime folder). The HMAC
 * key is in that file only: not in this script (slurmctld keeps scripts), not on a
 * command line. The file says `transport: ipc`, so the kernel listens on Unix sockets in
 * the runtime folder and no TCP port of the node is opened.
 */
import { shellQuote } from '../../shell-quote';
import type { IKernelScriptOptions } from '../../ports/slurm';
import { checkScriptValue, exportLines, sbatchHeader } from './sbatch-header';

const SCRIPT = 'kernel script';

export function renderKernelScript(options: IKernelScriptOptions): string {
  const { runtimeDir, connectionFile } = options;
  checkScriptValue(
    SCRIPT,
    connectionFile.startsWith(`${runtimeDir}/`) &&
      !connectionFile.slice(runtimeDir.length + 1).includes('/'),
    'connection file',
    connectionFile
  );
  return [
    ...sbatchHeader(SCRIPT, {
      jobName: options.jobName,
      workdir: runtimeDir,
      partition: options.partition,
      resources: options.resources,
      python: options.python,
      reservation: options.reservation ?? null,
      output: 'kernel.log',
      error: 'kernel.log'
    }),
    '',
    'set -euo pipefail',
    'umask 077',
    ...exportLines(SCRIPT, options.env ?? {}),
    // Interrupts arrive as messages on the control channel; SIGINT stays for scancel --signal.
    `exec ${shellQuote(options.python)} -m ipykernel_launcher -f ${shellQuote(connectionFile)}`,
    ''
  ].join('\n');
}
