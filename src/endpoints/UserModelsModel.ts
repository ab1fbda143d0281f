import {
  type ModelCatalog,
  ModelCatalogSchema,
  Routes,
  type UserModel,
  type UserModelCreate,
  UserModelNameSchema,
  UserModelSchema
} from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import { type ISignal, Signal } from '@lumino/signaling';
import { z } from 'zod';
import { BridgeRequestError } from '../transport/errors';
import type { IBridgeClient } from '../tokens';

/** The bridge routes of the user's own models, typed by the contract. */
export interface IUserModelsApi {
  /** The catalog: the admin's models, then the caller's own (`own: true`). */
  catalog(): Promise<ModelCatalog>;
  register(request: UserModelCreate): Promise<UserModel>;
  remove(name: string): Promise<void>;
}

/** `IUserModelsApi` over the bridge client. */
export class UserModelsApi implements IUserModelsApi {
  constructor(private readonly _client: IBridgeClient) {}

  catalog(): Promise<ModelCatalog> {
    return this._client.request('GET', Routes.modelCatalog, ModelCatalogSchema);
  }

  register(request: UserModelCreate): Promise<UserModel> {
    return this._client.request('POST', Routes.modelCatalog, UserModelSchema, {
      body: request
    });
  }

  async remove(name: string): Promise<void> {
    await this._client.request('DELETE', Routes.userModel(name), z.unknown());
  }
}

/**
 * The user's own models (model files on tiers registered under a name):
 * the list the Endpoints section shows, registering a file ("Register as
 * Model…" in a tier's file browser) and removing one.
 */
export class UserModelsModel {
  constructor(options: UserModelsModel.IOptions) {
    this._api = options.api;
    this._trans = options.trans;
    this._onChanged = options.onChanged ?? (() => undefined);
  }

  /** The user's models, by name (empty until loaded). */
  get models(): readonly UserModel[] {
    return this._models;
  }

  /** What the admin opened to user files; null when not opened (or not known yet). */
  get settings(): ModelCatalog['userModels'] {
    return this._settings;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  get error(): Error | null {
    return this._error;
  }

  /** Whether a removal of the model is in flight. */
  busy(name: string): boolean {
    return this._busy.has(name);
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  async load(): Promise<void> {
    try {
      const catalog = await this._api.catalog();
      this._models = catalog.models
        .filter((m): m is UserModel => m.own === true)
        .sort((a, b) => a.name.localeCompare(b.name));
      this._settings = catalog.userModels ?? null;
      this._error = null;
    } catch (error) {
      this._error = asError(error);
    } finally {
      this._loaded = true;
      this._changed.emit();
    }
  }

  /**
   * Whether "Register as Model…" applies to a file: a `.gguf` file, or any
   * file when a recipe open to user files is not llama-server (which serves
   * GGUF only). Not when the admin has not opened user models.
   */
  registrable(path: string): boolean {
    if (this._loaded && this._settings === null) {
      return false;
    }
    if (/\.gguf$/i.test(path)) {
      return true;
    }
    return (this._settings?.recipes ?? []).some(r => r !== 'llama-server');
  }

  /** The dialog's first values for a file of a tier. */
  form(tier: string, path: string): UserModelsModel.IForm {
    const file = path.split('/').pop() ?? '';
    const name = file
      .replace(/\.gguf$/i, '')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, 64);
    return {
      uri: `${tier}:${path}`,
      name,
      recipe: this._settings?.recipes[0] ?? ''
    };
  }

  /** What is wrong with the form before it is sent, by field. */
  check(form: UserModelsModel.IForm): UserModelsModel.Errors {
    const errors: UserModelsModel.Errors = {};
    const name = UserModelNameSchema.safeParse(form.name.trim());
    if (!name.success) {
      errors.name = this._trans.__(
        'A name of letters, digits, ".", "_" and "-" (at most 64, starting with a letter or digit).'
      );
    }
    return errors;
  }

  /**
   * Registers the file; resolves with the model, or with the refusal by
   * field (`name`, `recipe`, or `uri` for the file itself).
   */
  async register(
    form: UserModelsModel.IForm
  ): Promise<
    { model: UserModel; errors?: never } | { errors: UserModelsModel.Errors }
  > {
    const errors = this.check(form);
    if (Object.keys(errors).length > 0) {
      return { errors };
    }
    try {
      const model = await this._api.register({
        name: form.name.trim(),
        uri: form.uri,
        ...(form.recipe ? { recipe: form.recipe } : {})
      });
      this._models = [
        ...this._models.filter(m => m.name !== model.name),
        model
      ].sort((a, b) => a.name.localeCompare(b.name));
      this._changed.emit();
      this._onChanged();
      return { model };
    } catch (error) {
      return { errors: UserModelsModel.refusal(asError(error)) };
    }
  }

  async remove(name: string): Promise<void> {
    this._busy.add(name);
    this._changed.emit();
    try {
      await this._api.remove(name);
      this._models = this._models.filter(m => m.name !== name);
      this._error = null;
      this._onChanged();
    } catch (error) {
      this._error = asError(error);
    } finally {
      this._busy.delete(name);
      this._changed.emit();
    }
  }

  private readonly _api: IUserModelsApi;
  private readonly _trans: TranslationBundle;
  private readonly _onChanged: () => void;
  private _models: UserModel[] = [];
  private _settings: ModelCatalog['userModels'] = null;
  private _loaded = false;
  private _error: Error | null = null;
  private readonly _busy = new Set<string>();
  private readonly _changed = new Signal<this, void>(this);
}

export namespace UserModelsModel {
  export interface IOptions {
    api: IUserModelsApi;
    trans: TranslationBundle;
    /** After a model is registered or removed (e.g. read the catalog again). */
    onChanged?: () => void;
  }

  /** The Register as Model dialog's fields. */
  export interface IForm {
    /** The file, as a tier URI. */
    uri: string;
    name: string;
    recipe: string;
  }

  export type Errors = Partial<Record<'name' | 'recipe' | 'uri', string>>;

  /** The bridge's refusal, next to the field it is about. */
  export function refusal(error: Error): Errors {
    const details =
      error instanceof BridgeRequestError ? error.body?.error.details : null;
    if (Array.isArray(details)) {
      const path = String((details[0] as { path?: unknown })?.path ?? '');
      const field = path.replace(/^\//, '');
      if (field === 'name' || field === 'recipe' || field === 'uri') {
        return { [field]: error.message };
      }
    }
    if (/GGUF/.test(error.message)) {
      return { uri: error.message };
    }
    if (/model named|name of a catalog model/i.test(error.message)) {
      return { name: error.message };
    }
    if (/recipe/i.test(error.message)) {
      return { recipe: error.message };
    }
    return { uri: error.message };
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
