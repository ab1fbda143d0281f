import type {
  CatalogModel,
  EndpointCreate,
  EndpointVisibility,
  ModelCatalog,
  ServingProviderName
} from '@hpc-bridge/server/contract';
import { Placement } from './placement';
import { TierChoice } from '../storage/TierChoice';

/**
 * The create dialog's fields: their starting values, how choosing a provider
 * changes them, and the request they make.
 */
export namespace EndpointForm {
  /** The title of a provider from the catalog, else its name. */
  export function providerTitle(
    catalog: ModelCatalog | null,
    name: string
  ): string {
    return Placement.title(catalog, name);
  }

  /** The values the create dialog starts with for `model`. */
  export function defaults(
    catalog: ModelCatalog,
    model: CatalogModel
  ): ICreateForm {
    const provider =
      model.providers.find(name =>
        catalog.providers.some(provider => provider.name === name)
      ) ??
      model.providers[0] ??
      'local';
    return {
      name: '',
      model: model.name,
      provider,
      cpus: model.resources.cpus.default,
      memoryMB: model.resources.memoryMB.default,
      gpus: gpusOn(model, provider),
      timeMinutes: model.resources.timeMinutes.default,
      idleMinutes: catalog.idleMinutes.default,
      visibility: 'private',
      group: '',
      fallback: '',
      tiers: []
    };
  }

  /** The create dialog's fields. */
  export interface ICreateForm {
    name: string;
    model: string;
    provider: ServingProviderName;
    cpus: number;
    memoryMB: number;
    gpus: number;
    timeMinutes: number;
    idleMinutes: number;
    visibility: EndpointVisibility;
    group: string;
    /** Where a replica starts when `provider` cannot place it; '' for none. */
    fallback: ServingProviderName | '';
    /** Storage tiers the replicas use (`tier` or `tier:group`). */
    tiers: string[];
  }

  /**
   * The GPUs `model` starts with on `provider`: the fewest it allows on the
   * bridge host (`local`, which has no GPU to give), else its default.
   */
  export function gpusOn(
    model: CatalogModel,
    provider: ServingProviderName
  ): number {
    return provider === 'local'
      ? model.resources.gpus.min
      : model.resources.gpus.default;
  }

  /**
   * The form after choosing `provider`: a fallback equal to it is dropped;
   * GPUs follow the provider when `model` is given and they were its default.
   */
  export function withProvider(
    form: ICreateForm,
    provider: ServingProviderName,
    model?: CatalogModel
  ): ICreateForm {
    const keepGpus = !model || form.gpus !== gpusOn(model, form.provider);
    return {
      ...form,
      provider,
      gpus: keepGpus ? form.gpus : gpusOn(model, provider),
      fallback: form.fallback === provider ? '' : form.fallback
    };
  }

  /** The request of a filled-in create dialog. */
  export function createRequest(form: ICreateForm): EndpointCreate {
    return {
      name: form.name.trim(),
      model: form.model,
      provider: form.provider,
      resources: {
        cpus: form.cpus,
        memoryMB: form.memoryMB,
        gpus: form.gpus,
        timeMinutes: form.timeMinutes
      },
      idleMinutes: form.idleMinutes,
      visibility: form.visibility,
      ...(form.visibility === 'private' || !form.group.trim()
        ? {}
        : { group: form.group.trim() }),
      ...(form.fallback && form.fallback !== form.provider
        ? { fallback: form.fallback }
        : {}),
      ...TierChoice.request(form.tiers)
    };
  }
}
