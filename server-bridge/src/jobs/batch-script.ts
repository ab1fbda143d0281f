/**
 * The batch script of a notebook job. Layout of the working directory: see
 * docs/INTERFACES.md (inputs/, outputs/, progress/, logs/ must exist before sbatch).
 */
import { shellQuote } from '../adapters/ssh/quote';
import { JobNameSchema, MAX_SWEEP_ELEMENTS, type Resources } from '../contract';

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
}

const PARTITION = /^[A-Za-z0-9._-]{1,64}$/;
const ABSOLUTE_PATH = /^(\/[A-Za-z0-9._+-]+)+\/?$/;

function check(ok: boolean, what: string, value: unknown): void {
  if (!ok) {
    throw new Error(
      `invalid ${what} for a batch script: ${JSON.stringify(value)}`
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

/**
 * sbatch reads `#SBATCH` lines itself, without a shell, and does not understand
 * single quotes: such values must be single words that need no quoting at all.
 */
function sbatch(option: string, value: string | number): string {
  const v = String(value);
  check(shellQuote(v) === v, option, v);
  return `#SBATCH --${option}=${v}`;
}

/** Renders `job.sbatch`; throws on any value outside its safe form. */
export function renderBatchScript(options: IBatchScriptOptions): string {
  const { jobName, workdir, partition, resources, arraySize, python } = options;
  check(JobNameSchema.safeParse(jobName).success, 'job name', jobName);
  check(PARTITION.test(partition), 'partition', partition);
  check(isAbsolutePath(workdir), 'working directory', workdir);
  check(isAbsolutePath(python), 'python path', python);
  check(isCount(resources.timeMinutes, 1), 'time', resources.timeMinutes);
  check(isCount(resources.cpus, 1), 'cpus', resources.cpus);
  check(isCount(resources.memoryMB, 1), 'memory', resources.memoryMB);
  check(isCount(resources.gpus, 0), 'gpus', resources.gpus);
  check(
    arraySize === null ||
      (isCount(arraySize, 1) && arraySize <= MAX_SWEEP_ELEMENTS),
    'array size',
    arraySize
  );

  const log = arraySize === null ? 'logs/0' : 'logs/%a';
  const lines = [
    '#!/bin/bash',
    sbatch('job-name', jobName),
    sbatch('partition', partition),
    sbatch('time', resources.timeMinutes),
    sbatch('nodes', 1),
    sbatch('ntasks', 1),
    sbatch('cpus-per-task', resources.cpus),
    sbatch('mem', `${resources.memoryMB}M`),
    ...(resources.gpus > 0 ? [sbatch('gres', `gpu:${resources.gpus}`)] : []),
    ...(arraySize === null ? [] : [sbatch('array', `0-${arraySize - 1}`)]),
    sbatch('chdir', workdir),
    sbatch('output', `${log}.out`),
    sbatch('error', `${log}.err`),
    '',
    'set -euo pipefail',
    'I=${SLURM_ARRAY_TASK_ID:-0}',
    `exec ${shellQuote(python)} runner.py "inputs/$I.ipynb" "outputs/$I.ipynb" "progress/$I.json"`,
    ''
  ];
  return lines.join('\n');
}
