import type {
  CatalogModel,
  Endpoint,
  ModelCatalog,
  Replica,
  ServingProviderInfo,
  ServingProviderName
} from '@hpc-bridge/server/contract';

/**
 * Where an endpoint's replicas run, derived from the catalog: the cloud
 * flavor a GPU count maps to, the project's quota left, the fallback
 * providers a model allows, and how to describe a replica's place.
 * Pure functions: the create dialog and the endpoint details render them.
 */
export namespace Placement {
  /** What the catalog says about provider `name`, or `null` if not configured. */
  export function provider(
    catalog: ModelCatalog | null,
    name: string
  ): ServingProviderInfo | null {
    return catalog?.providers.find(info => info.name === name) ?? null;
  }

  /** The title of a provider from the catalog, else its name. */
  export function title(catalog: ModelCatalog | null, name: string): string {
    return provider(catalog, name)?.title ?? name;
  }

  export type Flavor = NonNullable<ServingProviderInfo['flavors']>[number];

  /**
   * The flavor a replica with `gpus` GPUs gets (the bridge maps by exact GPU
   * count), `null` when the provider has no flavors (not a cloud, or they
   * could not be read), or the GPU counts offered when none matches.
   */
  export function flavorFor(
    info: ServingProviderInfo,
    gpus: number
  ): { flavor: Flavor } | { offered: number[] } | null {
    if (!info.flavors) {
      return null;
    }
    const flavor = info.flavors.find(candidate => candidate.gpus === gpus);
    return flavor
      ? { flavor }
      : {
          offered: [...new Set(info.flavors.map(f => f.gpus))].sort(
            (a, b) => a - b
          )
        };
  }

  /** One quota figure: what is left (`null`: unlimited) of `limit`. */
  export interface IQuotaLeft {
    left: number | null;
    limit: number | null;
  }

  export interface IQuotaLeftAll {
    instances: IQuotaLeft;
    cores: IQuotaLeft;
    ramMB: IQuotaLeft;
    gpus?: IQuotaLeft;
  }

  /** The project's quota left, as Nova reports it (limit -1: unlimited). */
  export function quotaLeft(
    quota: NonNullable<ServingProviderInfo['quota']>
  ): IQuotaLeftAll {
    const left = (usage: { used: number; limit: number }): IQuotaLeft =>
      usage.limit < 0
        ? { left: null, limit: null }
        : { left: Math.max(0, usage.limit - usage.used), limit: usage.limit };
    return {
      instances: left(quota.instances),
      cores: left(quota.cores),
      ramMB: left(quota.ramMB),
      ...(quota.gpus ? { gpus: left(quota.gpus) } : {})
    };
  }

  /** A quota that one more server with `flavor` would exceed. */
  export interface IShortage {
    what: 'instances' | 'cores' | 'ramMB' | 'gpus';
    needed: number;
    left: number;
  }

  /** What one more replica with `flavor` would exceed; empty when it fits. */
  export function shortages(left: IQuotaLeftAll, flavor: Flavor): IShortage[] {
    const needs: Array<[IShortage['what'], number, IQuotaLeft | undefined]> = [
      ['instances', 1, left.instances],
      ['cores', flavor.vcpus, left.cores],
      ['ramMB', flavor.ramMB, left.ramMB],
      ['gpus', flavor.gpus, left.gpus]
    ];
    return needs.flatMap(([what, needed, quota]) =>
      quota && quota.left !== null && needed > quota.left
        ? [{ what, needed, left: quota.left }]
        : []
    );
  }

  /**
   * The providers an endpoint of `model` may fall back to when `primary`
   * cannot place a replica: the model's other configured providers.
   */
  export function fallbackChoices(
    catalog: ModelCatalog,
    model: CatalogModel,
    primary: string
  ): ServingProviderName[] {
    return model.providers.filter(
      name => name !== primary && provider(catalog, name) !== null
    );
  }

  /** Where a replica runs, in words: the provider's title and the bridge's `where`. */
  export function replicaPlace(
    catalog: ModelCatalog | null,
    replica: Replica
  ): string {
    const where = replica.where ?? replica.ref;
    const name = title(catalog, replica.provider);
    return where ? `${name}: ${where}` : name;
  }

  /**
   * Why the endpoint runs on its fallback, when it does: the provider it
   * runs on and the bridge's sentence; `null` when it runs on its primary.
   */
  export function fallbackNote(
    catalog: ModelCatalog | null,
    endpoint: Endpoint
  ): { provider: string; reason: string } | null {
    if (!endpoint.fallbackReason) {
      return null;
    }
    const live = endpoint.replicas.find(
      replica =>
        replica.provider !== endpoint.provider &&
        replica.state !== 'stopped' &&
        replica.state !== 'failed'
    );
    const name = live?.provider ?? endpoint.fallback;
    return name
      ? { provider: title(catalog, name), reason: endpoint.fallbackReason }
      : null;
  }
}
