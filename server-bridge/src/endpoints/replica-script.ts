/**
 * The batch script of a slurm replica: picks a free port on the node, writes
 * `{"host": …, "port": …}` to `replica.json` in its working directory (the bridge reads
 * it over SFTP), then execs the recipe. The recipe's argv is quoted word by word
 * (`shellCommandWithAddress` → `shellQuote`); `{host}`/`{port}` become shell variables.
 */
import { shellQuote } from '../adapters/ssh/quote';
import { JobNameSchema } from '../contract';
import type { IReplicaResources } from './ports';
import { shellCommandWithAddress } from './recipe';

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
}

const PARTITION = /^[A-Za-z0-9._-]{1,64}$/;
const ABSOLUTE_PATH = /^(\/[A-Za-z0-9._+-]+)+\/?$/;

function check(ok: boolean, what: string, value: unknown): void {
  if (!ok) {
    throw new Error(
      `invalid ${what} for a replica script: ${JSON.stringify(value)}`
    );
  }
}

function isAbsolutePath(p: string): boolean {
  return (
    ABSOLUTE_PATH.test(p) && p.split('/').every(s => s !== '.' && s !== '..')
  );
}

function isCount(n: number, min: number): boolean {
  return Number.isSafeInteger(n) && n >= min;
}

/** sbatch reads `#SBATCH` lines without a shell: values must need no quoting at all. */
function sbatch(option: string, value: string | number): string {
  const v = String(value);
  check(shellQuote(v) === v, option, v);
  return `#SBATCH --${option}=${v}`;
}

const PICK_PORT =
  'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1]); s.close()';

/** Renders `replica.sbatch`; throws on any value outside its safe form. */
export function renderReplicaScript(options: IReplicaScriptOptions): string {
  const { jobName, workdir, partition, resources, argv, python } = options;
  check(JobNameSchema.safeParse(jobName).success, 'job name', jobName);
  check(PARTITION.test(partition), 'partition', partition);
  check(isAbsolutePath(workdir), 'working directory', workdir);
  check(isAbsolutePath(python), 'python path', python);
  check(isCount(resources.timeMinutes, 1), 'time', resources.timeMinutes);
  check(isCount(resources.cpus, 1), 'cpus', resources.cpus);
  check(isCount(resources.memoryMB, 1), 'memory', resources.memoryMB);
  check(isCount(resources.gpus, 0), 'gpus', resources.gpus);
  check(
    options.comment === undefined ||
      /^[A-Za-z0-9._-]{1,200}$/.test(options.comment),
    'comment',
    options.comment
  );
  const command = shellCommandWithAddress(argv, 'HPCB_HOST', 'HPCB_PORT');
  return [
    '#!/bin/bash',
    sbatch('job-name', jobName),
    sbatch('partition', partition),
    sbatch('time', resources.timeMinutes),
    sbatch('nodes', 1),
    sbatch('ntasks', 1),
    sbatch('cpus-per-task', resources.cpus),
    sbatch('mem', `${resources.memoryMB}M`),
    ...(resources.gpus > 0 ? [sbatch('gres', `gpu:${resources.gpus}`)] : []),
    ...(options.comment === undefined
      ? []
      : [sbatch('comment', options.comment)]),
    sbatch('chdir', workdir),
    sbatch('output', 'server.log'),
    sbatch('error', 'server.log'),
    '',
    'set -euo pipefail',
    `HPCB_PORT=$(${shellQuote(python)} -c ${shellQuote(PICK_PORT)})`,
    "HPCB_HOST=$(hostname -I 2>/dev/null | awk '{print $1}' || true)",
    'if [ -z "${HPCB_HOST}" ]; then HPCB_HOST=$(hostname -i | awk \'{print $1}\'); fi',
    'printf \'{"host": "%s", "port": %s}\\n\' "${HPCB_HOST}" "${HPCB_PORT}" > replica.json.tmp',
    'mv replica.json.tmp replica.json',
    `exec ${command}`,
    ''
  ].join('\n');
}
