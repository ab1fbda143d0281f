/** The admin's model catalog, as users see it, and resources within a model's limits. */
import type { BridgeConfig, ModelConfig } from '../config';
import type {
  CatalogModel,
  ModelCatalog,
  ServingProviderInfo,
  ServingProviderName,
  ServingResources
} from '../contract';
import { DomainError } from '../domain-error';

const KEYS = ['cpus', 'memoryMB', 'gpus', 'timeMinutes'] as const;

/** The gateway's base URL as users reach it: publicUrl + basePath + `v1`. */
export function gatewayUrl(config: BridgeConfig): string {
  return `${config.serving.publicUrl ?? ''}${config.basePath}v1`;
}

/** The model as users see it; `configured`: the providers this bridge has. */
export function catalogModel(
  m: ModelConfig,
  configured?: ReadonlySet<string>
): CatalogModel {
  const range = (k: (typeof KEYS)[number]) => ({
    default: m.resources[k],
    min: k === 'gpus' ? 0 : 1,
    max: m.limits[k]
  });
  return {
    name: m.name,
    title: m.title,
    ...(m.description === undefined ? {} : { description: m.description }),
    recipe: m.recipe,
    providers: m.providers.filter(
      p => configured === undefined || configured.has(p)
    ),
    resources: {
      cpus: range('cpus'),
      memoryMB: range('memoryMB'),
      gpus: range('gpus'),
      timeMinutes: range('timeMinutes')
    }
  };
}

export function modelCatalog(
  config: BridgeConfig,
  details: ReadonlyMap<string, Partial<ServingProviderInfo>> = new Map()
): ModelCatalog {
  const configured = new Set(
    Object.entries(config.serving.providers)
      .filter(([, v]) => v !== undefined)
      .map(([k]) => k)
  );
  return {
    models: config.models.map(m => catalogModel(m, configured)),
    providers: configuredProviders(config).map(p => ({
      ...details.get(p.name),
      ...p
    })),
    idleMinutes: { ...config.serving.idleMinutes },
    gatewayUrl: gatewayUrl(config)
  };
}

export function configuredProviders(
  config: BridgeConfig
): ServingProviderInfo[] {
  const { local, slurm, openstack } = config.serving.providers;
  const out: ServingProviderInfo[] = [];
  if (local !== undefined) {
    out.push({
      name: 'local',
      title: 'Bridge host',
      description:
        'A process beside the bridge: for development and small course models'
    });
  }
  if (slurm !== undefined) {
    const cluster = config.clusters.find(c => c.name === slurm.cluster);
    out.push({
      name: 'slurm',
      title: `${cluster?.title ?? slurm.cluster}, ${slurm.partition} partition`,
      description:
        'Each replica is a batch job; the URL outlives its time limit'
    });
  }
  if (openstack !== undefined) {
    out.push({
      name: 'openstack',
      title: openstack.title,
      description:
        'Each replica is a server on the cloud, with a GPU flavor; stopping deletes it'
    });
  }
  return out;
}

export function findModel(
  config: Pick<BridgeConfig, 'models'>,
  name: string
): ModelConfig {
  const m = config.models.find(x => x.name === name);
  if (m === undefined) {
    throw new DomainError(
      'bad_request',
      `No model named "${name}" in the catalog`,
      {
        models: config.models.map(x => x.name)
      }
    );
  }
  return m;
}

export function checkProvider(
  config: BridgeConfig,
  model: ModelConfig,
  provider: ServingProviderName
): void {
  if (!model.providers.includes(provider)) {
    throw new DomainError(
      'bad_request',
      `Model ${model.name} cannot be served by the ${provider} provider (allowed: ${model.providers.join(', ')})`
    );
  }
  if (config.serving.providers[provider] === undefined) {
    throw new DomainError(
      'bad_request',
      `The ${provider} provider is not configured on this bridge`
    );
  }
}

/** The model's defaults with the user's overrides, each checked against its range. */
export function resolveServingResources(
  model: ModelConfig,
  overrides: Partial<ServingResources> = {}
): ServingResources {
  const r = catalogModel(model).resources;
  const out = {} as ServingResources;
  const problems: { field: string; value: number; min: number; max: number }[] =
    [];
  for (const k of KEYS) {
    const value = overrides[k] ?? r[k].default;
    if (value < r[k].min || value > r[k].max) {
      problems.push({ field: k, value, min: r[k].min, max: r[k].max });
    }
    out[k] = value;
  }
  if (problems.length > 0) {
    throw new DomainError(
      'bad_request',
      `Resources outside the limits of model ${model.name}: ${problems
        .map(p => `${p.field}=${p.value} (allowed ${p.min}–${p.max})`)
        .join(', ')}`,
      problems
    );
  }
  return out;
}

/** The idle timeout asked for, or the default, within the configured range. */
export function resolveIdleMinutes(
  config: BridgeConfig,
  asked: number | undefined
): number {
  const r = config.serving.idleMinutes;
  const v = asked ?? r.default;
  if (v < r.min || v > r.max) {
    throw new DomainError(
      'bad_request',
      `idleMinutes=${v} is outside ${r.min}–${r.max}`
    );
  }
  return v;
}
