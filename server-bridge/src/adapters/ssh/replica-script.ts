/**
 * The batch script of a slurm replica: picks a free port on the node, writes
 * `{"host": …, "port": …}` to `replica.json` in its working directory (the bridge reads
 * it over SFTP), reads the replica's key from a 0600 file into the recipe's key variable
 * (the key is in neither the script, which slurmctld keeps, nor any command line), then
 * execs the recipe. The recipe's argv is quoted word by word
 * (`shellCommandWithAddress` → `shellQuote`); `{host}`/`{port}` become shell variables.
 */
import { shellQuote } from '../../shell-quote';
import { checkScriptValue, exportLines, sbatchHeader } from './sbatch-header';
import type { IReplicaScriptOptions } from '../../ports/slurm';

/**
 * The argv as one shell command line in which `{host}` and `{port}` become the shell
 * variables `$host_var`/`$port_var` (set by the batch script at run time). Every literal
 * part is quoted by `shellQuote`; the variables are double-quoted.
 */
export function shellCommandWithAddress(
  argv: readonly string[],
  hostVar: string,
  portVar: string
): string {
  for (const name of [hostVar, portVar]) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) {
      throw new Error(
        `invalid shell variable for a recipe: ${JSON.stringify(name)}`
      );
    }
  }
  if (argv.length === 0) {
    throw new Error('empty command');
  }
  return argv
    .map(token => {
      const parts = token.split(/(\{host\}|\{port\})/);
      const words = parts
        .filter(p => p !== '')
        .map(p =>
          p === '{host}'
            ? `"\${${hostVar}}"`
            : p === '{port}'
              ? `"\${${portVar}}"`
              : shellQuote(p)
        );
      return words.length === 0 ? "''" : words.join('');
    })
    .join(' ');
}

const PICK_PORT =
  'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1]); s.close()';

/** Renders `replica.sbatch`; throws on any value outside its safe form. */
export function renderReplicaScript(options: IReplicaScriptOptions): string {
  const { argv, python, comment } = options;
  checkScriptValue(
    'replica script',
    comment === undefined || /^[A-Za-z0-9._-]{1,200}$/.test(comment),
    'comment',
    comment
  );
  const command = shellCommandWithAddress(argv, 'HPCB_HOST', 'HPCB_PORT');
  const { key } = options;
  checkScriptValue(
    'replica script',
    /^[A-Z_][A-Z0-9_]{0,127}$/.test(key.env) && !key.env.startsWith('HPCB_'),
    'key variable',
    key.env
  );
  checkScriptValue(
    'replica script',
    key.file.startsWith('/') && /^[^\0\n\r]+$/.test(key.file),
    'key file',
    key.file
  );
  return [
    ...sbatchHeader('replica script', {
      ...options,
      extra: comment === undefined ? [] : [['comment', comment]],
      output: 'server.log',
      error: 'server.log'
    }),
    '',
    'set -euo pipefail',
    ...exportLines('replica script', options.env ?? {}),
    `${key.env}=$(< ${shellQuote(key.file)})`,
    `export ${key.env}`,
    `HPCB_PORT=$(${shellQuote(python)} -c ${shellQuote(PICK_PORT)})`,
    "HPCB_HOST=$(hostname -I 2>/dev/null | awk '{print $1}' || true)",
    'if [ -z "${HPCB_HOST}" ]; then HPCB_HOST=$(hostname -i | awk \'{print $1}\'); fi',
    'printf \'{"host": "%s", "port": %s}\\n\' "${HPCB_HOST}" "${HPCB_PORT}" > replica.json.tmp',
    'mv replica.json.tmp replica.json',
    `exec ${command}`,
    ''
  ].join('\n');
}
