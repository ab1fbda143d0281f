#!/usr/bin/env node
/**
 * CLI: `hpc-bridge serve --config FILE` loads and validates the config, builds the app,
 * listens, and on SIGTERM/SIGINT stops accepting connections and finishes in-flight
 * requests before exiting. `hpc-bridge check-config FILE` validates a config the same way
 * and lists every problem. `migrate` and `copy-store`: ./store-cli.ts.
 */
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app';
import { ConfigError, loadConfig, redact, type BridgeConfig } from './config';
import { checkConfig, formatReport } from './config/check';
import { createDeps } from './deps';
import { createLogger } from './logging';
import {
  parseStoreArgs,
  runCopyStore,
  runMigrate,
  type ICopyStoreArgs,
  type IMigrateArgs
} from './store-cli';
import { BRIDGE_VERSION } from './version';

const USAGE = `Usage: hpc-bridge serve --config FILE
       hpc-bridge check-config FILE [--online] [--json]
       hpc-bridge migrate --config FILE
       hpc-bridge copy-store --from sqlite:PATH --to postgres://USER:PASSWORD@HOST/DB
       hpc-bridge --help | --version

serve runs the HPC Bridge service (usually started by JupyterHub as a managed service).
check-config validates FILE as serve would and lists every problem with its key path;
it exits 0 when the file is fine, 1 when it has problems, 2 on usage errors.
migrate brings the configured store (SQLite or PostgreSQL) to this version's schema.
copy-store copies a SQLite store into an empty PostgreSQL database (docs/postgres.md).

Options:
  --config FILE   YAML configuration (see docs/INTERFACES.md); also $HPC_BRIDGE_CONFIG
  --online        check-config: also reach the hub, clusters, S3 stores and clouds
  --json          check-config: print the report as JSON
  --help          show this help
  --version       print the version
`;

/** Time allowed for in-flight requests after SIGTERM before the process exits anyway. */
const GRACE_MS = 10_000;

interface IServeArgs {
  command: 'serve';
  config: string;
}

export interface ICheckConfigArgs {
  command: 'check-config';
  file: string;
  online: boolean;
  json: boolean;
}

type Args =
  | IServeArgs
  | ICheckConfigArgs
  | IMigrateArgs
  | ICopyStoreArgs
  | { command: 'help' }
  | { command: 'version' }
  | { command: 'error'; message: string };

export function parseArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env
): Args {
  if (argv.includes('--help') || argv.includes('-h')) {
    return { command: 'help' };
  }
  if (argv.includes('--version')) {
    return { command: 'version' };
  }
  const [command, ...rest] = argv;
  if (command === 'check-config') {
    return parseCheckConfigArgs(rest);
  }
  if (command === 'migrate' || command === 'copy-store') {
    return parseStoreArgs(command, rest, env);
  }
  if (command !== 'serve') {
    return {
      command: 'error',
      message:
        command === undefined
          ? 'missing command'
          : `unknown command "${command}"`
    };
  }
  let config = env.HPC_BRIDGE_CONFIG;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    if (arg === '--config') {
      config = rest[++i];
    } else if (arg.startsWith('--config=')) {
      config = arg.slice('--config='.length);
    } else {
      return { command: 'error', message: `unknown argument "${arg}"` };
    }
  }
  if (config === undefined || config === '') {
    return { command: 'error', message: '--config FILE is required' };
  }
  return { command: 'serve', config };
}

function parseCheckConfigArgs(rest: readonly string[]): Args {
  const files: string[] = [];
  let online = false;
  let json = false;
  for (const arg of rest) {
    if (arg === '--online') {
      online = true;
    } else if (arg === '--json') {
      json = true;
    } else if (arg.startsWith('-')) {
      return { command: 'error', message: `unknown argument "${arg}"` };
    } else {
      files.push(arg);
    }
  }
  const [file, extra] = files;
  if (file === undefined || file === '') {
    return { command: 'error', message: 'check-config needs a FILE' };
  }
  if (extra !== undefined) {
    return {
      command: 'error',
      message: `check-config takes one FILE (also got "${extra}")`
    };
  }
  return { command: 'check-config', file, online, json };
}

/** Prints the report; resolves with the exit status: 0 when the file is fine, 1 if not. */
export async function runCheckConfig(
  args: ICheckConfigArgs,
  env: NodeJS.ProcessEnv = process.env,
  write: (text: string) => void = text => process.stdout.write(text)
): Promise<number> {
  const report = await checkConfig(args.file, { online: args.online, env });
  write(
    args.json
      ? `${JSON.stringify(report, null, 2)}\n`
      : `${formatReport(report)}\n`
  );
  return report.ok ? 0 : 1;
}

async function serve(file: string): Promise<void> {
  let config: BridgeConfig;
  try {
    config = loadConfig(file);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`hpc-bridge: ${e.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw e;
  }
  const logger = createLogger(config.logLevel);
  const deps = createDeps(config, logger);
  deps.store.setMeta('last_start', new Date().toISOString());
  deps.store.setMeta('version', BRIDGE_VERSION);
  const app = await buildApp(deps);

  closeWithGrace({ delay: GRACE_MS }, async ({ signal, err }) => {
    if (err !== undefined) {
      logger.error({ err }, 'fatal error, shutting down');
    } else {
      logger.info({ signal }, 'shutting down: finishing in-flight requests');
    }
    await app.close();
  });

  logger.info({ version: BRIDGE_VERSION, config: redact(config) }, 'starting');
  // Before listening, so that no upload of this process can be taken for an orphan.
  await deps.sweepInterruptedUploads();
  await app.listen({ host: config.listen.host, port: config.listen.port });
  // The first poll reconciles the jobs in the store with SLURM.
  deps.startBackground?.();
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  switch (args.command) {
    case 'help':
      process.stdout.write(USAGE);
      return;
    case 'version':
      process.stdout.write(`${BRIDGE_VERSION}\n`);
      return;
    case 'error':
      process.stderr.write(`hpc-bridge: ${args.message}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    case 'serve':
      await serve(args.config);
      return;
    case 'check-config':
      process.exitCode = await runCheckConfig(args);
      return;
    case 'migrate':
      process.stdout.write(`schema version ${runMigrate(args)}\n`);
      return;
    case 'copy-store':
      runCopyStore(args, text => process.stdout.write(text));
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`hpc-bridge: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
