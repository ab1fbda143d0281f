/**
 * The store's commands: `hpc-bridge migrate --config FILE` migrates the configured store
 * and exits; `hpc-bridge copy-store --from sqlite:PATH --to postgres://…` copies a SQLite
 * store into an empty PostgreSQL database (docs/postgres.md).
 */
import { loadConfig } from './config';
import { openStore, Store } from './store';
import { copyStore } from './store/copy';
import { PgDatabase } from './store/pg-database';

export interface IMigrateArgs {
  command: 'migrate';
  config: string;
}

export interface ICopyStoreArgs {
  command: 'copy-store';
  from: string;
  to: string;
}

type StoreArgs =
  IMigrateArgs | ICopyStoreArgs | { command: 'error'; message: string };

/** `--name VALUE` and `--name=VALUE` options; an unknown one is an error. */
function options(
  rest: readonly string[],
  known: readonly string[]
): Record<string, string> | string {
  const found: Record<string, string> = {};
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    const [name, inline] = arg.split(/=(.*)/s, 2);
    const key = (name ?? '').replace(/^--/, '');
    if (!arg.startsWith('--') || !known.includes(key)) {
      return `unknown argument "${arg}"`;
    }
    found[key] = inline ?? rest[++i] ?? '';
  }
  return found;
}

export function parseStoreArgs(
  command: 'migrate' | 'copy-store',
  rest: readonly string[],
  env: NodeJS.ProcessEnv
): StoreArgs {
  if (command === 'migrate') {
    const found = options(rest, ['config']);
    if (typeof found === 'string') {
      return { command: 'error', message: found };
    }
    const config = found.config ?? env.HPC_BRIDGE_CONFIG ?? '';
    return config === ''
      ? { command: 'error', message: '--config FILE is required' }
      : { command: 'migrate', config };
  }
  const found = options(rest, ['from', 'to']);
  if (typeof found === 'string') {
    return { command: 'error', message: found };
  }
  const { from = '', to = '' } = found;
  if (!from.startsWith('sqlite:') || from === 'sqlite:') {
    return { command: 'error', message: '--from sqlite:PATH is required' };
  }
  if (!/^postgres(ql)?:\/\//.test(to)) {
    return { command: 'error', message: '--to postgres://… is required' };
  }
  return { command: 'copy-store', from: from.slice('sqlite:'.length), to };
}

/** Migrates the configured store; resolves with the schema version reached. */
export function runMigrate(args: IMigrateArgs): number {
  const config = loadConfig(args.config);
  const store = openStore({
    path: config.store.path,
    url: config.store.url,
    password: config.store.password?.reveal()
  });
  try {
    return store.schemaVersion();
  } finally {
    store.close();
  }
}

export function runCopyStore(
  args: ICopyStoreArgs,
  write: (text: string) => void
): void {
  const from = new Store(args.from);
  const pg = new PgDatabase(args.to);
  try {
    const to = new Store(pg);
    const report = copyStore(from, to, pg);
    for (const { table, rows } of report.tables) {
      write(`${table}: ${rows} rows\n`);
    }
  } finally {
    from.close();
    pg.close();
  }
}
