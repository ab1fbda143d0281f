/**
 * Models users bring themselves: a model file on a tier (a job's output) registered under
 * a name of their own, served like a catalog model, and the roll of an endpoint to another
 * model. Shared by the bridge and the panels; no Node-only imports.
 */
import { z } from 'zod';
import { CatalogModelSchema } from './endpoints';
import { TierUriSchema } from './lineage';

/** A user model's name: what clients pass as `model`. */
export const UserModelNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    'letters, digits, ".", "_" and "-" only (at most 64, starting with a letter or digit)'
  );

/** `POST /api/v1/models`: a file the caller can read on a tier, served with `recipe`. */
export const UserModelCreateSchema = z
  .object({
    name: UserModelNameSchema,
    /** The file, as a tier URI (`archive:results/42/model.gguf`). */
    uri: TierUriSchema,
    /** One of the recipes the admin opened to user files; default: the first. */
    recipe: z.string().min(1).max(64).optional()
  })
  .meta({ id: 'UserModelCreate' });
export type UserModelCreate = z.infer<typeof UserModelCreateSchema>;

/** One of the caller's own models, as the catalog lists it (`own: true`). */
export const UserModelSchema = CatalogModelSchema.required({
  own: true,
  uri: true,
  sizeBytes: true,
  registeredAt: true
}).meta({ id: 'UserModel' });
export type UserModel = z.infer<typeof UserModelSchema>;

export const UserModelParamsSchema = z.object({ name: UserModelNameSchema });

/**
 * `POST /api/v1/endpoints/{id}/roll`: serve another model at the same URL with the same
 * keys. `model` is a catalog model, one of the caller's models, or a tier URI of a file.
 */
export const EndpointRollSchema = z
  .object({ model: z.string().min(1).max(1100) })
  .meta({ id: 'EndpointRoll' });
export type EndpointRoll = z.infer<typeof EndpointRollSchema>;
