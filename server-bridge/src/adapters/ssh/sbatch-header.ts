/**
 * The `#SBATCH` header shared by notebook jobs and serving replicas. sbatch reads these
 * lines itself, without a shell, and does not understand quotes: every value must be a
 * single word that needs no quoting at all, else rendering throws.
 */
import { JobNameSchema } from '../../contract';
import { shellQuote } from '../../shell-quote';

export interface ISbatchResources {
  timeMinutes: number;
  cpus: number;
  memoryMB: number;
  gpus: number;
}

export interface ISbatchHeader {
  jobName: string;
  /** Absolute path of the working directory on the cluster. */
  workdir: string;
  partition: string;
  resources: ISbatchResources;
  /** Absolute path of the cluster's Python the script runs. */
  python: string;
  /** Further options after the resources, e.g. `['array', '0-3']`. */
  extra?: readonly (readonly [string, string | number])[];
  /** A SLURM reservation (a course's); null or absent: none. */
  reservation?: string | null;
  output: string;
  error: string;
}

const PARTITION = /^[A-Za-z0-9._-]{1,64}$/;
const RESERVATION = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
const ABSOLUTE_PATH = /^(\/[A-Za-z0-9._+-]+)+\/?$/;

/** Throws `invalid WHAT for a SCRIPT: VALUE` unless `ok`. */
export function checkScriptValue(
  script: string,
  ok: boolean,
  what: string,
  value: unknown
): void {
  if (!ok) {
    throw new Error(
      `invalid ${what} for a ${script}: ${JSON.stringify(value)}`
    );
  }
}

export function isCount(n: number, min: number): boolean {
  return Number.isSafeInteger(n) && n >= min;
}

function isAbsolutePath(p: string): boolean {
  return (
    ABSOLUTE_PATH.test(p) && p.split('/').every(s => s !== '.' && s !== '..')
  );
}

const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;

/**
 * `export NAME=VALUE` lines for the script body (a shell reads them, unlike the header):
 * each value quoted by `shellQuote`; throws on a name outside `[A-Z_][A-Z0-9_]*`.
 */
export function exportLines(
  script: string,
  env: Readonly<Record<string, string>>
): string[] {
  return Object.entries(env).map(([name, value]) => {
    checkScriptValue(script, ENV_NAME.test(name), 'variable name', name);
    return `export ${name}=${shellQuote(value)}`;
  });
}

/** `#!/bin/bash` and the `#SBATCH` lines; `script` names the script in errors. */
export function sbatchHeader(script: string, header: ISbatchHeader): string[] {
  const { jobName, workdir, partition, resources, python } = header;
  const check = (ok: boolean, what: string, value: unknown) =>
    checkScriptValue(script, ok, what, value);
  check(JobNameSchema.safeParse(jobName).success, 'job name', jobName);
  check(PARTITION.test(partition), 'partition', partition);
  check(isAbsolutePath(workdir), 'working directory', workdir);
  check(isAbsolutePath(python), 'python path', python);
  check(isCount(resources.timeMinutes, 1), 'time', resources.timeMinutes);
  check(isCount(resources.cpus, 1), 'cpus', resources.cpus);
  check(isCount(resources.memoryMB, 1), 'memory', resources.memoryMB);
  check(isCount(resources.gpus, 0), 'gpus', resources.gpus);
  const reservation = header.reservation ?? null;
  check(
    reservation === null || RESERVATION.test(reservation),
    'reservation',
    reservation
  );
  const line = (option: string, value: string | number): string => {
    const v = String(value);
    check(shellQuote(v) === v, option, v);
    return `#SBATCH --${option}=${v}`;
  };
  return [
    '#!/bin/bash',
    line('job-name', jobName),
    line('partition', partition),
    line('time', resources.timeMinutes),
    line('nodes', 1),
    line('ntasks', 1),
    line('cpus-per-task', resources.cpus),
    line('mem', `${resources.memoryMB}M`),
    ...(resources.gpus > 0 ? [line('gres', `gpu:${resources.gpus}`)] : []),
    ...(header.extra ?? []).map(([option, value]) => line(option, value)),
    ...(reservation === null ? [] : [line('reservation', reservation)]),
    line('chdir', workdir),
    line('output', header.output),
    line('error', header.error)
  ];
}
