/**
 * The bridge's YAML configuration: one zod schema, validated once at start.
 * Every problem is reported at once as `FILE: key.path: message`.
 * Secrets are `{env: NAME} | {file: PATH} | {value: "..."}`, resolved at load
 * into `Secret` objects that never print their value. The schema is built section by
 * section: `primitives.ts`, `storage.ts`, `serving.ts`, assembled in `schema.ts`.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { errnoText, type Env, type ILoadContext } from './primitives';
import { configSchema, type BridgeConfig } from './schema';
export { redact, Secret } from './secret';
export { byteSizeSchema, SECRET_KEY_ENV } from './primitives';
export type { ITierLocation } from './storage';
export {
  DEFAULT_DEFAULT_MAX_TOKENS,
  DEFAULT_MAX_TOKENS,
  RECIPE_PLACEHOLDERS,
  USER_DATA_PLACEHOLDERS
} from './serving';
export { configSchema } from './schema';
export type {
  BridgeConfig,
  ClusterConfig,
  KernelsConfig,
  ModelConfig,
  OpenStackConfig,
  ProfileConfig,
  RecipeConfig,
  S3Config,
  ServingConfig,
  TierConfig
} from './schema';

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    /** One entry per problem, each `FILE: key.path: message`. */
    readonly problems: string[]
  ) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.join('\n')}`
    );
    this.name = 'ConfigError';
  }
}

/** `['clusters', 0, 'ssh']` → `clusters[0].ssh`. */
export function keyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') {
      out += `[${p}]`;
    } else {
      out += out === '' ? String(p) : `.${String(p)}`;
    }
  }
  return out === '' ? '(top level)' : out;
}

/** Turns zod issues into `FILE: key.path: message` lines, one per problem. */
export function formatIssues(
  file: string,
  issues: readonly z.core.$ZodIssue[]
): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        lines.push(`${file}: ${keyPath([...issue.path, key])}: unknown key`);
      }
    } else if (
      issue.code === 'invalid_type' &&
      /received undefined/.test(issue.message)
    ) {
      lines.push(
        `${file}: ${keyPath(issue.path)}: required (${issue.expected})`
      );
    } else {
      lines.push(`${file}: ${keyPath(issue.path)}: ${issue.message}`);
    }
  }
  return lines;
}

/**
 * One schema for every parse: building it costs more than a parse. Its transforms read the
 * env and base directory of the parse under way through this context; parsing is
 * synchronous, so no other parse can run in between.
 */
let parsing: ILoadContext = { env: {}, baseDir: '/' };
const parseContext: ILoadContext = {
  get env() {
    return parsing.env;
  },
  get baseDir() {
    return parsing.baseDir;
  }
};
let schema: ReturnType<typeof configSchema> | undefined;

/** Validates an already parsed config object; throws `ConfigError` with every problem. */
export function parseConfig(
  raw: unknown,
  file: string,
  env: Env = process.env
): BridgeConfig {
  schema ??= configSchema(parseContext);
  parsing = { env, baseDir: dirname(resolve(file)) };
  const result = schema.safeParse(raw ?? {});
  if (!result.success) {
    throw new ConfigError(file, formatIssues(file, result.error.issues));
  }
  return result.data;
}

/** Reads, parses and validates a YAML config file. */
export function loadConfig(file: string, env: Env = process.env): BridgeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [`${file}: cannot read: ${errnoText(e)}`]);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map(
        e =>
          `${file}: line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`
      )
    );
  }
  return parseConfig(doc.toJS(), file, env);
}
