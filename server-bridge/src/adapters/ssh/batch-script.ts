/**
 * The batch script of a notebook job. Layout of the working directory: see
 * docs/INTERFACES.md (inputs/, outputs/, progress/, logs/ must exist before sbatch).
 */
import { shellQuote } from '../../shell-quote';
import {
  checkScriptValue,
  exportLines,
  isCount,
  sbatchHeader
} from './sbatch-header';
import { MAX_SWEEP_ELEMENTS } from '../../contract';
import type { IBatchScriptOptions, IOutputDirOptions } from '../../ports/slurm';

const OUTPUT_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

/** The element's output folder and each declared output in it, exported (and created). */
function outputDirLines(dir: IOutputDirOptions | null): string[] {
  if (dir === null) {
    return [];
  }
  checkScriptValue(
    'batch script',
    dir.root.startsWith('/'),
    'output folder',
    dir.root
  );
  const lines = [
    ...exportLines('batch script', { [dir.variable]: dir.root }).map(
      line => `${line}/"$I"`
    ),
    `mkdir -p "$${dir.variable}"`
  ];
  for (const entry of dir.entries) {
    checkScriptValue(
      'batch script',
      OUTPUT_NAME.test(entry.name),
      'output name',
      entry.name
    );
    lines.push(
      ...exportLines('batch script', { [entry.variable]: entry.name }).map(
        line => line.replace('=', `="$${dir.variable}"/`)
      )
    );
    if (entry.folder) {
      lines.push(`mkdir -p "$${entry.variable}"`);
    }
  }
  return lines;
}

/**
 * Each element's own values (`{element}` inputs): one `case` on the element's index that
 * exports them; an element without a value gets none.
 */
function elementEnvLines(
  env: Readonly<Record<string, readonly string[]>>
): string[] {
  const byElement = new Map<number, Record<string, string>>();
  for (const [name, values] of Object.entries(env)) {
    values.forEach((value, element) => {
      const vars = byElement.get(element) ?? {};
      vars[name] = value;
      byElement.set(element, vars);
    });
  }
  if (byElement.size === 0) {
    return [];
  }
  return [
    'case "$I" in',
    ...[...byElement.entries()]
      .sort(([a], [b]) => a - b)
      .map(
        ([element, vars]) =>
          `  ${element}) ${exportLines('batch script', vars).join('; ')} ;;`
      ),
    'esac'
  ];
}

/** Renders `job.sbatch`; throws on any value outside its safe form. */
export function renderBatchScript(options: IBatchScriptOptions): string {
  const { arraySize, python } = options;
  checkScriptValue(
    'batch script',
    arraySize === null ||
      (isCount(arraySize, 1) && arraySize <= MAX_SWEEP_ELEMENTS),
    'array size',
    arraySize
  );
  const secrets = options.secretsFile ?? null;
  checkScriptValue(
    'batch script',
    secrets === null || (secrets.startsWith('/') && !/[\0\n\r]/.test(secrets)),
    'secrets file',
    secrets
  );
  const log = arraySize === null ? 'logs/0' : 'logs/%a';
  const lines = [
    ...sbatchHeader('batch script', {
      ...options,
      extra: [
        ...(arraySize === null
          ? []
          : [['array', `0-${arraySize - 1}`] as const])
      ],
      output: `${log}.out`,
      error: `${log}.err`
    }),
    '',
    'set -euo pipefail',
    ...exportLines('batch script', options.env ?? {}),
    ...(secrets === null ? [] : [`. ${shellQuote(secrets)}`]),
    'I=${SLURM_ARRAY_TASK_ID:-0}',
    ...elementEnvLines(options.elementEnv ?? {}),
    ...outputDirLines(options.outputDir ?? null),
    `exec ${shellQuote(python)} runner.py "inputs/$I.ipynb" "outputs/$I.ipynb" "progress/$I.json"`,
    ''
  ];
  return lines.join('\n');
}
