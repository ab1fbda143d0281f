/**
 * Serving recipes → argv. A recipe is an argv with placeholders inside tokens
 * (`{model}`, `-m{model}`); a value never splits or joins tokens, and nothing is ever
 * handed to a shell unquoted.
 */
import { RECIPE_PLACEHOLDERS, type RecipeConfig } from '../config';

export type RecipePlaceholder = (typeof RECIPE_PLACEHOLDERS)[number];

/** Values known when the bridge asks for a replica; `{host}`/`{port}` come later. */
export interface IRecipeValues {
  model: string;
  threads: number;
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
/** What values may look like: no NUL, no line breaks (they end up in a batch script). */
const SAFE_VALUE = /^[^\0\n\r]+$/;

function check(ok: boolean, what: string, value: unknown): void {
  if (!ok) {
    throw new Error(`invalid ${what} for a recipe: ${JSON.stringify(value)}`);
  }
}

function substitute(
  token: string,
  values: Partial<Record<RecipePlaceholder, string>>
): string {
  return token.replace(PLACEHOLDER, (whole, name: string) => {
    const v = values[name as RecipePlaceholder];
    return v === undefined ? whole : v;
  });
}

/**
 * Renders the recipe's argv with the values known up front, leaving `{host}` and
 * `{port}` for the provider (`withAddress`, or the batch script for slurm).
 * Throws on a value outside its safe form.
 */
export function renderArgv(
  recipe: Pick<RecipeConfig, 'command'>,
  values: IRecipeValues
): string[] {
  check(
    values.model.startsWith('/') && SAFE_VALUE.test(values.model),
    'model path',
    values.model
  );
  check(
    Number.isSafeInteger(values.threads) && values.threads >= 1,
    'threads',
    values.threads
  );
  const known = {
    model: values.model,
    threads: String(values.threads)
  };
  return recipe.command.map(t => substitute(t, known));
}

const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;
const UPSTREAM_KEY = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * The environment entry that hands a replica its key (`{LLAMA_API_KEY: key}`): never
 * an argument, which every local user could read in `ps`.
 */
export function keyEnvironment(
  keyEnv: string,
  key: string
): Record<string, string> {
  check(ENV_NAME.test(keyEnv), 'key variable name', keyEnv);
  check(UPSTREAM_KEY.test(key), 'upstream key', '…');
  return { [keyEnv]: key };
}

/**
 * The argv run under `/usr/bin/env NAME=VALUE …` (for a cloud's user-data, which has
 * only the command line). Values must not hold NUL or line breaks.
 */
export function withEnvironment(
  argv: readonly string[],
  env: Readonly<Record<string, string>>
): string[] {
  const entries = Object.entries(env);
  if (entries.length === 0) {
    return [...argv];
  }
  for (const [name, value] of entries) {
    check(ENV_NAME.test(name), 'variable name', name);
    check(SAFE_VALUE.test(value), 'variable value', value);
  }
  return ['/usr/bin/env', ...entries.map(([n, v]) => `${n}=${v}`), ...argv];
}

/** Substitutes `{host}` and `{port}` (local provider: it picked both). */
export function withAddress(
  argv: readonly string[],
  host: string,
  port: number
): string[] {
  check(/^[A-Za-z0-9.:-]+$/.test(host), 'host', host);
  check(Number.isSafeInteger(port) && port > 0 && port < 65536, 'port', port);
  return argv.map(t => substitute(t, { host, port: String(port) }));
}
