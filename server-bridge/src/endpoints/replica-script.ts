/**
 * The batch script of a slurm replica: picks a free port on the node, writes
 * `{"host": …, "port": …}` to `replica.json` in its working directory (the bridge reads
 * it over SFTP), reads the replica's key from a 0600 file into the recipe's key variable
 * (the key is in neither the script, which slurmctld keeps, nor any command line), then
 * execs the recipe. The recipe's argv is quoted word by word
 * (`shellCommandWithAddress` → `shellQuote`); `{host}`/`{port}` become shell variables.
 */
import { shellQuote } from '../adapters/ssh/quote';
import {
  checkScriptValue,
  exportLines,
  sbatchHeader
} from '../adapters/ssh/sbatch-header';
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
  /** Exported before the recipe starts (where the endpoint's storage tiers are). */
  env?: Readonly<Record<string, string>>;
  /** The variable the recipe reads its key from, and the file (mode 0600) holding it. */
  key: { env: string; file: string };
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
