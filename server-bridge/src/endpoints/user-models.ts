/**
 * Models users bring themselves: a model file on a tier they can read (a job's output),
 * registered under a name of their own and served like a catalog model. The admin opens
 * it in `serving.userModels`: which recipes take such files, which tier classes they may
 * come from, how large they may be. Nobody else sees or uses a user's models (404).
 */
import type { IAuthUser } from '../auth/decide';
import type {
  BridgeConfig,
  ModelConfig,
  RecipeConfig,
  ServingConfig
} from '../config';
import {
  parseTierUri,
  placeholdersOf,
  TierUriSchema,
  UserModelCreateSchema,
  type UserModel,
  type UserModelCreate
} from '../contract';
import { DomainError } from '../domain-error';
import type { Store } from '../store';
import type { StorageService } from '../storage/service';
import type { IStorageUser } from '../storage/tiers';
import { catalogModel, findModel } from './catalog';
import { tooBig } from './model-placers';
import type {
  IModelFileRecord,
  IUserModelRecord,
  UserModelTable
} from './repository/user-models';

type UserModelsConfig = NonNullable<ServingConfig['userModels']>;

/** The first bytes of every GGUF file. */
const GGUF_MAGIC = Buffer.from('GGUF', 'ascii');

/** A recipe of llama.cpp's server, which loads GGUF files only. */
export function expectsGguf(recipe: Pick<RecipeConfig, 'command'>): boolean {
  const program = recipe.command[0] ?? '';
  return /llama/i.test(program.slice(program.lastIndexOf('/') + 1));
}

export interface IUserModelsDeps {
  config: Pick<BridgeConfig, 'serving' | 'recipes' | 'models'>;
  table: UserModelTable;
  storage: Pick<StorageService, 'staging' | 'files'>;
  store: Pick<Store, 'audit'>;
  now?: () => number;
}

export class UserModels {
  constructor(private readonly deps: IUserModelsDeps) {}

  /** The admin's rules; 403 with the key to set while they are absent. */
  settings(): UserModelsConfig {
    const s = this.deps.config.serving.userModels;
    if (s === undefined) {
      throw new DomainError(
        'forbidden',
        'Serving your own model files is not enabled on this bridge (the admin opens it with serving.userModels)'
      );
    }
    return s;
  }

  /** The catalog entry of a model file: the admin's resources and providers for them. */
  modelConfig(name: string, file: IModelFileRecord): ModelConfig {
    const s = this.settings();
    return {
      name,
      title: name,
      description: `Your model file ${file.uri}`,
      recipe: file.recipe,
      path: '/',
      providers: s.providers,
      resources: s.resources,
      limits: s.limits,
      maxTokens: s.maxTokens,
      defaultMaxTokens: s.defaultMaxTokens
    };
  }

  private toModel(rec: IUserModelRecord): UserModel {
    const configured = new Set(
      Object.entries(this.deps.config.serving.providers)
        .filter(([, v]) => v !== undefined)
        .map(([k]) => k)
    );
    return {
      ...catalogModel(this.modelConfig(rec.name, rec.file), configured),
      own: true,
      uri: rec.file.uri,
      sizeBytes: rec.file.sizeBytes,
      registeredAt: rec.createdAt
    };
  }

  /** The caller's models; none (not an error) while user models are off. */
  list(user: IAuthUser): UserModel[] {
    if (this.deps.config.serving.userModels === undefined) {
      return [];
    }
    return this.deps.table.list(user.name).map(r => this.toModel(r));
  }

  /** One of the caller's models, by name. */
  find(user: IAuthUser, name: string): IUserModelRecord | undefined {
    return this.deps.table.get(user.name, name);
  }

  async register(user: IAuthUser, input: UserModelCreate): Promise<UserModel> {
    const req = UserModelCreateSchema.parse(input);
    this.settings();
    if (this.deps.config.models.some(m => m.name === req.name)) {
      throw new DomainError(
        'conflict',
        `${req.name} is the name of a catalog model; choose another name`
      );
    }
    if (this.deps.table.get(user.name, req.name) !== undefined) {
      throw new DomainError(
        'conflict',
        `You already have a model named ${req.name}`
      );
    }
    const file = await this.checkFile(user, req.uri, req.recipe);
    const rec: IUserModelRecord = {
      owner: user.name,
      name: req.name,
      createdAt: new Date((this.deps.now ?? Date.now)()).toISOString(),
      file
    };
    if (!this.deps.table.insert(rec)) {
      throw new DomainError(
        'conflict',
        `You already have a model named ${req.name}`
      );
    }
    this.deps.store.audit({
      user: user.name,
      action: 'model.register',
      target: req.name,
      details: { uri: file.uri, recipe: file.recipe, sizeBytes: file.sizeBytes }
    });
    return this.toModel(rec);
  }

  delete(user: IAuthUser, name: string): void {
    if (!this.deps.table.delete(user.name, name)) {
      throw new DomainError('not_found', `You have no model named ${name}`);
    }
    this.deps.store.audit({
      user: user.name,
      action: 'model.delete',
      target: name,
      details: {}
    });
  }

  /**
   * Checks that `uri` may be served with `recipe` (default: the first the admin opened):
   * the recipe takes user files, the tier's class is allowed, the user can read the file
   * (404 otherwise), it is within maxBytes, and a llama-server recipe gets a GGUF file
   * (only its first bytes are read).
   */
  async checkFile(
    user: IStorageUser,
    uri: string,
    recipeName?: string
  ): Promise<IModelFileRecord> {
    const s = this.settings();
    const parsed = TierUriSchema.safeParse(uri);
    if (!parsed.success || placeholdersOf(uri).length > 0) {
      throw new DomainError(
        'bad_request',
        `${uri} is not the tier URI of a file (tier:path/to/model.gguf)`
      );
    }
    const { tier, path, folder } = parseTierUri(uri);
    const recipe = this.recipe(s, recipeName);
    const source = await this.deps.storage.staging.source(user, tier, path);
    if (!s.tierClasses.includes(source.class)) {
      throw new DomainError(
        'forbidden',
        `Tier ${tier} is of class ${source.class}; user models may come from tiers of class ${s.tierClasses.join(', ')} (serving.userModels.tierClasses)`
      );
    }
    const size = source.version.size;
    if (folder || source.folder || size === null) {
      throw new DomainError(
        'bad_request',
        `${uri} is a folder; a user model is one file`
      );
    }
    if (size > s.maxBytes) {
      throw tooBig(uri, s.maxBytes);
    }
    if (expectsGguf(recipe) && !(await this.startsWithGguf(user, tier, path))) {
      throw new DomainError(
        'bad_request',
        `${uri} is not a GGUF file (it does not start with "GGUF"); recipe ${recipe.name} serves GGUF models`
      );
    }
    return {
      uri,
      tier: source.tier,
      path: source.path,
      recipe: recipe.name,
      sizeBytes: size,
      groups: [...user.groups]
    };
  }

  private recipe(s: UserModelsConfig, name?: string): RecipeConfig {
    const wanted = name ?? s.recipes[0] ?? '';
    const recipe = this.deps.config.recipes.find(r => r.name === wanted);
    if (recipe === undefined) {
      throw new DomainError('bad_request', `No recipe named ${wanted}`);
    }
    if (!s.recipes.includes(wanted)) {
      throw new DomainError(
        'forbidden',
        `Recipe ${wanted} does not serve user model files (allowed: ${s.recipes.join(', ')})`
      );
    }
    return recipe;
  }

  private async startsWithGguf(
    user: IStorageUser,
    tier: string,
    path: string
  ): Promise<boolean> {
    const content = await this.deps.storage.files.read(
      user,
      tier,
      path,
      size =>
        size === 0 ? undefined : { start: 0, end: Math.min(size, 4) - 1 }
    );
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of content.body) {
      const b = Buffer.from(chunk as Buffer);
      chunks.push(b);
      length += b.length;
      if (length >= GGUF_MAGIC.length) {
        break;
      }
    }
    content.body.destroy();
    return Buffer.concat(chunks).subarray(0, 4).equals(GGUF_MAGIC);
  }
}

/** A model an endpoint can serve: its catalog entry, and a user's file (null: catalog). */
export interface IServable {
  model: ModelConfig;
  file: IModelFileRecord | null;
}

/**
 * The model `name` for `user`: a catalog model or one of the user's own. Another user's
 * model is unknown here: 404 while user models are open, the catalog's 400 otherwise.
 */
export function namedModel(
  config: Pick<BridgeConfig, 'models'>,
  models: UserModels | undefined,
  user: IAuthUser,
  name: string
): IServable {
  const catalog = config.models.find(m => m.name === name);
  if (catalog !== undefined) {
    return { model: catalog, file: null };
  }
  if (models === undefined) {
    return { model: findModel(config, name), file: null };
  }
  const own = models.find(user, name);
  if (own === undefined) {
    throw new DomainError(
      'not_found',
      `No model named "${name}" in the catalog or among your models`
    );
  }
  return { model: models.modelConfig(name, own.file), file: own.file };
}

/**
 * `namedModel`, or a model file named by its tier URI (checked as at registration, served
 * with `recipe` or the first recipe open to user models).
 */
export async function modelOrFile(
  config: Pick<BridgeConfig, 'models'>,
  models: UserModels | undefined,
  user: IAuthUser,
  name: string,
  recipe?: string
): Promise<IServable> {
  const known =
    config.models.some(m => m.name === name) ||
    models?.find(user, name) !== undefined;
  if (known || models === undefined || !TierUriSchema.safeParse(name).success) {
    return namedModel(config, models, user, name);
  }
  const file = await models.checkFile(user, name, recipe);
  return { model: models.modelConfig(name, file), file };
}
