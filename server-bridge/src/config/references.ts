/**
 * The references between parts of a config (profiles → clusters, tiers → S3 stores and
 * clusters, the slurm provider → a cluster, models and user models → recipes). One check
 * for both users: the schema's final step on a parsed config, and `check-config` on the
 * file as written (zod skips that final step when anything else is wrong, and an admin
 * wants every problem).
 */

export interface IReferenceProblem {
  /** Key path, e.g. `['profiles', 0, 'cluster']`. */
  path: (string | number)[];
  message: string;
}

type RawRecord = Record<string, unknown>;

const isRecord = (v: unknown): v is RawRecord =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** The entries of an array, or none when it is not one (the schema reports that). */
const entries = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The names a list defines; null when it is no list, so nothing is checked against it. */
function names(list: unknown): Set<unknown> | null {
  return list === undefined
    ? new Set()
    : Array.isArray(list)
      ? new Set(list.map(i => (isRecord(i) ? i.name : undefined)))
      : null;
}

/**
 * Every reference to a name no list defines, in file order. `config` has the shape of the
 * file (tiers with `s3` or `sftp`); anything malformed is skipped, as the schema reports it.
 */
export function referenceProblems(config: unknown): IReferenceProblem[] {
  if (!isRecord(config)) {
    return [];
  }
  const out: IReferenceProblem[] = [];
  const clusters = names(config.clusters);
  const stores = names(config.s3);
  const recipes = names(config.recipes);
  const check = (
    known: Set<unknown> | null,
    name: unknown,
    path: (string | number)[],
    what: string
  ): void => {
    if (known !== null && typeof name === 'string' && !known.has(name)) {
      out.push({ path, message: `no ${what} named "${name}"` });
    }
  };

  entries(config.profiles).forEach((p, i) => {
    if (isRecord(p)) {
      check(clusters, p.cluster, ['profiles', i, 'cluster'], 'cluster');
    }
  });
  const storage = isRecord(config.storage) ? config.storage : {};
  entries(storage.tiers).forEach((t, i) => {
    if (!isRecord(t)) {
      return;
    }
    if (isRecord(t.s3)) {
      check(
        stores,
        t.s3.store,
        ['storage', 'tiers', i, 's3', 'store'],
        's3 store'
      );
    }
    if (isRecord(t.sftp)) {
      check(
        clusters,
        t.sftp.cluster,
        ['storage', 'tiers', i, 'sftp', 'cluster'],
        'cluster'
      );
    }
  });
  const serving = isRecord(config.serving) ? config.serving : {};
  const providers = isRecord(serving.providers) ? serving.providers : {};
  if (isRecord(providers.slurm)) {
    check(
      clusters,
      providers.slurm.cluster,
      ['serving', 'providers', 'slurm', 'cluster'],
      'cluster'
    );
  }
  const userModels = isRecord(serving.userModels) ? serving.userModels : {};
  entries(userModels.recipes).forEach((r, i) => {
    check(recipes, r, ['serving', 'userModels', 'recipes', i], 'recipe');
  });
  entries(config.models).forEach((m, i) => {
    if (isRecord(m)) {
      check(recipes, m.recipe, ['models', i, 'recipe'], 'recipe');
    }
  });
  return out;
}
