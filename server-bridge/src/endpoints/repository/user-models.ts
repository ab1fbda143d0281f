/** The `user_models` table (migration 14): model files users registered by name. */
import { z } from 'zod';
import type { Store } from '../../store';

/** A model file on a tier, as checked when it was named (registered, or rolled to). */
export const ModelFileSchema = z.object({
  /** As the user wrote it (`archive:results/42/model.gguf`). */
  uri: z.string(),
  tier: z.string(),
  /** The path inside the tier (group folder first). */
  path: z.string(),
  /** The recipe that serves it (one of `serving.userModels.recipes`). */
  recipe: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  /**
   * The owner's groups when it was checked: the bridge reads the file as the owner with
   * them later, from the control loop, where no request carries the groups.
   */
  groups: z.array(z.string())
});
export type IModelFileRecord = z.infer<typeof ModelFileSchema>;

export const UserModelRecordSchema = z.object({
  owner: z.string(),
  name: z.string(),
  createdAt: z.string(),
  file: ModelFileSchema
});
export type IUserModelRecord = z.infer<typeof UserModelRecordSchema>;

const RowSchema = z.object({ record: z.string() });

function parse(row: unknown): IUserModelRecord {
  return UserModelRecordSchema.parse(JSON.parse(RowSchema.parse(row).record));
}

export class UserModelTable {
  constructor(private readonly store: Store) {}

  private get db() {
    return this.store.db;
  }

  /** False when the owner already has a model of that name. */
  insert(rec: IUserModelRecord): boolean {
    const result = this.db
      .prepare(
        'INSERT INTO user_models (owner, name, created_at, record) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'
      )
      .run(rec.owner, rec.name, rec.createdAt, JSON.stringify(rec));
    return result.changes === 1;
  }

  get(owner: string, name: string): IUserModelRecord | undefined {
    const row = this.db
      .prepare('SELECT record FROM user_models WHERE owner = ? AND name = ?')
      .get(owner, name);
    return row === undefined ? undefined : parse(row);
  }

  /** The owner's models, by name. */
  list(owner: string): IUserModelRecord[] {
    return this.db
      .prepare('SELECT record FROM user_models WHERE owner = ? ORDER BY name')
      .all(owner)
      .map(parse);
  }

  /** False when the owner had no model of that name. */
  delete(owner: string, name: string): boolean {
    return (
      this.db
        .prepare('DELETE FROM user_models WHERE owner = ? AND name = ?')
        .run(owner, name).changes === 1
    );
  }
}
