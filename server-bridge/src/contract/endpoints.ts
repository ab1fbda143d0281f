/**
 * Model-serving endpoints: admin-catalogued models served by replicas (local child
 * processes, SLURM jobs, …) behind one stable OpenAI-compatible URL.
 * Shared by the bridge and the panels; no Node-only imports.
 */
import { z } from 'zod';
import { TierUsesSchema } from './jobs';

/** Endpoint and key names: letters, digits, ".", "_", "-". */
export const EndpointNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    'letters, digits, ".", "_" and "-" only (at most 64, starting with a letter or digit)'
  );

/** Where replicas run: the bridge host, SLURM batch jobs, an OpenStack cloud. */
export const ServingProviderNameSchema = z.enum([
  'local',
  'slurm',
  'openstack'
]);
export type ServingProviderName = z.infer<typeof ServingProviderNameSchema>;

/** A provider configured on this bridge, as the create dialog offers it. */
const UsageSchema = z.object({
  used: z.number().int(),
  /** -1: unlimited. */
  limit: z.number().int()
});

export const ServingProviderInfoSchema = z.object({
  name: ServingProviderNameSchema,
  title: z.string(),
  description: z.string().optional(),
  /** openstack: the flavors replicas get, by GPU count. */
  flavors: z
    .array(
      z.object({
        name: z.string(),
        gpus: z.number().int().nonnegative(),
        vcpus: z.number().int().nonnegative(),
        ramMB: z.number().int().nonnegative()
      })
    )
    .optional(),
  /** openstack: the cloud project's quota as Nova reports it (read at most every ~30 s). */
  quota: z
    .object({
      instances: UsageSchema,
      cores: UsageSchema,
      ramMB: UsageSchema,
      gpus: UsageSchema.optional()
    })
    .optional(),
  /** Why flavors/quota could not be read (e.g. the cloud is not reachable), in a sentence. */
  problem: z.string().optional()
});
export type ServingProviderInfo = z.infer<typeof ServingProviderInfoSchema>;

export const EndpointStateSchema = z.enum([
  /** Created/started, no replica asked for yet. */
  'pending',
  /** A replica is queued or booting, none healthy yet. */
  'starting',
  /** A healthy replica serves requests. */
  'ready',
  /** Ready, but no request for a while (scales to zero after `idleMinutes`). */
  'idle',
  /** No replica; the next request wakes it (held up to `holdSeconds`). */
  'scaled-to-zero',
  /** Restarts exhausted; `reason` says why. Start again to retry. */
  'failed',
  /** Stop asked: its replicas are being stopped; requests are refused. */
  'stopping',
  /** Stopped by its owner; requests are refused until it is started again. */
  'stopped'
]);
export type EndpointState = z.infer<typeof EndpointStateSchema>;

export const EndpointVisibilitySchema = z.enum(['private', 'group', 'course']);
export type EndpointVisibility = z.infer<typeof EndpointVisibilitySchema>;

export const ServingResourcesSchema = z.object({
  cpus: z.number().int().positive(),
  memoryMB: z.number().int().positive(),
  gpus: z.number().int().nonnegative(),
  /** Time limit of one replica; the endpoint outlives it by walltime handover. */
  timeMinutes: z.number().int().positive()
});
export type ServingResources = z.infer<typeof ServingResourcesSchema>;

const RangeSchema = z.object({
  default: z.number().int().nonnegative(),
  min: z.number().int().nonnegative(),
  max: z.number().int().nonnegative()
});

/** One entry of `GET /api/v1/models`: the admin's catalog, then the caller's own models. */
export const CatalogModelSchema = z.object({
  name: z.string(),
  title: z.string(),
  description: z.string().optional(),
  recipe: z.string(),
  providers: z.array(ServingProviderNameSchema),
  resources: z.object({
    cpus: RangeSchema,
    memoryMB: RangeSchema,
    gpus: RangeSchema,
    timeMinutes: RangeSchema
  }),
  /** The caller registered it (a file on a tier); absent for the admin's models. */
  own: z.boolean().optional(),
  /** Own models: the file, as a tier URI. */
  uri: z.string().optional(),
  /** Own models: the file's size when registered. */
  sizeBytes: z.number().int().nonnegative().optional(),
  registeredAt: z.iso.datetime().optional()
});
export type CatalogModel = z.infer<typeof CatalogModelSchema>;

export const ModelCatalogSchema = z
  .object({
    models: z.array(CatalogModelSchema),
    /** The providers configured here (a model lists those it may run on). */
    providers: z.array(ServingProviderInfoSchema),
    /** Bounds of an endpoint's idle timeout (minutes). */
    idleMinutes: RangeSchema,
    /** The gateway's base URL (`…/v1`) that OpenAI clients use. */
    gatewayUrl: z.string(),
    /** What users may register as their own models; null when the admin has not opened it. */
    userModels: z
      .object({
        recipes: z.array(z.string()),
        tierClasses: z.array(z.string()),
        maxBytes: z.number().int().positive(),
        providers: z.array(ServingProviderNameSchema)
      })
      .nullable()
      .optional()
  })
  .meta({ id: 'ModelCatalog' });
export type ModelCatalog = z.infer<typeof ModelCatalogSchema>;

export const EndpointCreateSchema = z
  .object({
    name: EndpointNameSchema,
    /** A catalog model name, or the name of one of the caller's own models. */
    model: z.string().min(1).max(128),
    provider: ServingProviderNameSchema,
    /** Overrides of the model's defaults, each within the model's range. */
    resources: ServingResourcesSchema.partial().optional(),
    /** Scale to zero after this many minutes without a request. */
    idleMinutes: z.number().int().positive().optional(),
    visibility: EndpointVisibilitySchema.default('private'),
    /** For `group`/`course` visibility: one of the owner's groups. */
    group: z.string().min(1).max(128).optional(),
    /**
     * Where a replica starts when `provider` cannot place it: no capacity or quota on a
     * cloud, or still queued after `serving.fallbackAfterMinutes`. The URL stays the same.
     */
    fallback: ServingProviderNameSchema.optional(),
    /**
     * Storage tiers the replicas use (`tier` or `tier:group`), given to them as
     * `HPCB_TIER_<NAME>` (+ `HPCB_S3_ENDPOINT`); sensitive tiers only on compliant
     * providers (and fallback).
     */
    tiers: TierUsesSchema.optional()
  })
  .meta({ id: 'EndpointCreate' });
export type EndpointCreate = z.input<typeof EndpointCreateSchema>;

export const ReplicaStateSchema = z.enum([
  /** Asked for (queued job, spawning process). */
  'pending',
  /** Running, not yet healthy. */
  'starting',
  'ready',
  /** Being replaced (walltime handover): finishes in-flight requests, gets no new ones. */
  'draining',
  'stopped',
  'failed'
]);
export type ReplicaState = z.infer<typeof ReplicaStateSchema>;

export const ReplicaSchema = z.object({
  id: z.string(),
  provider: ServingProviderNameSchema,
  state: ReplicaStateSchema,
  /** e.g. the SLURM job id, the cloud server id, or the local process id. */
  ref: z.string().nullable(),
  /** Where it runs, in words (e.g. `cloud server hpcb-…`, `SLURM job 42`). */
  where: z.string().nullable().optional(),
  /** `host:port` once known. */
  address: z.string().nullable(),
  reason: z.string().nullable(),
  /** The model it serves (an endpoint that rolled to another model has replicas of both). */
  model: z.string().nullable().optional(),
  createdAt: z.iso.datetime(),
  readyAt: z.iso.datetime().nullable(),
  /** When its time limit ends (handover starts `handoverMinutes` before). */
  endsAt: z.iso.datetime().nullable()
});
export type Replica = z.infer<typeof ReplicaSchema>;

export const EndpointSchema = z
  .object({
    id: z.string(),
    name: EndpointNameSchema,
    owner: z.string(),
    /** The model it serves (or, during a roll, the one it rolls to). */
    model: z.string(),
    /** The model file of a user model (a tier URI); null for a catalog model. */
    modelUri: z.string().nullable().optional(),
    /** A roll in flight: the model served before, until its replicas have drained. */
    roll: z
      .object({
        from: z.string(),
        fromUri: z.string().nullable(),
        startedAt: z.iso.datetime()
      })
      .nullable()
      .optional(),
    provider: ServingProviderNameSchema,
    resources: ServingResourcesSchema,
    idleMinutes: z.number().int().positive(),
    visibility: EndpointVisibilitySchema,
    group: z.string().nullable(),
    state: EndpointStateSchema,
    /** Why it failed / was restarted / scaled to zero, in a sentence. */
    reason: z.string().nullable(),
    /** Automatic restarts since the last start. */
    restarts: z.number().int().nonnegative(),
    /** The provider used when `provider` cannot place a replica. */
    fallback: ServingProviderNameSchema.nullable().optional(),
    /** Why the last replica started on the fallback, in a sentence; null on the primary. */
    fallbackReason: z.string().nullable().optional(),
    /** The storage tiers its replicas use (`tier` or `tier:group`). */
    tiers: z.array(z.string()).optional(),
    /** The OpenAI base URL (same for every endpoint; the API key selects it). */
    url: z.string(),
    replicas: z.array(ReplicaSchema),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    lastRequestAt: z.iso.datetime().nullable()
  })
  .meta({ id: 'Endpoint' });
export type Endpoint = z.infer<typeof EndpointSchema>;

export const EndpointListSchema = z
  .object({ endpoints: z.array(EndpointSchema) })
  .meta({ id: 'EndpointList' });
export type EndpointList = z.infer<typeof EndpointListSchema>;

export const EndpointKeyCreateSchema = z
  .object({
    name: EndpointNameSchema,
    /** Requests per minute this key may make; unlimited when absent. */
    requestsPerMinute: z.number().int().positive().optional(),
    /** Total tokens (prompt + completion) this key may use; unlimited when absent. */
    tokenBudget: z.number().int().positive().optional()
  })
  .meta({ id: 'EndpointKeyCreate' });
export type EndpointKeyCreate = z.infer<typeof EndpointKeyCreateSchema>;

export const EndpointKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    /** The first characters of the key (`hpcb_AbC…`), to recognise it. */
    prefix: z.string(),
    requestsPerMinute: z.number().int().positive().nullable(),
    tokenBudget: z.number().int().positive().nullable(),
    tokensUsed: z.number().int().nonnegative(),
    requests: z.number().int().nonnegative(),
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime().nullable(),
    revokedAt: z.iso.datetime().nullable(),
    /** A key the bridge made for a job that declared the endpoint (revoked when it ends). */
    jobId: z.string().optional()
  })
  .meta({ id: 'EndpointKey' });
export type EndpointKey = z.infer<typeof EndpointKeySchema>;

/** The answer to creating a key: the only time the key itself is shown. */
export const EndpointKeyCreatedSchema = EndpointKeySchema.extend({
  key: z.string()
}).meta({ id: 'EndpointKeyCreated' });
export type EndpointKeyCreated = z.infer<typeof EndpointKeyCreatedSchema>;

export const EndpointKeyListSchema = z
  .object({ keys: z.array(EndpointKeySchema) })
  .meta({ id: 'EndpointKeyList' });
export type EndpointKeyList = z.infer<typeof EndpointKeyListSchema>;

/** One minute of an endpoint's traffic. */
export const EndpointMetricPointSchema = z.object({
  /** Start of the minute. */
  at: z.iso.datetime(),
  requests: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  p50Ms: z.number().nonnegative().nullable(),
  p95Ms: z.number().nonnegative().nullable(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative()
});
export type EndpointMetricPoint = z.infer<typeof EndpointMetricPointSchema>;

/** `GET …/endpoints/{id}/metrics`: the last minutes, oldest first. */
export const EndpointMetricsSchema = z
  .object({
    points: z.array(EndpointMetricPointSchema),
    totals: z.object({
      requests: z.number().int().nonnegative(),
      errors: z.number().int().nonnegative(),
      promptTokens: z.number().int().nonnegative(),
      completionTokens: z.number().int().nonnegative()
    })
  })
  .meta({ id: 'EndpointMetrics' });
export type EndpointMetrics = z.infer<typeof EndpointMetricsSchema>;

export const EndpointIdParamsSchema = z.object({
  id: z.string().min(1).max(64)
});

export const EndpointKeyParamsSchema = z.object({
  id: z.string().min(1).max(64),
  keyId: z.string().min(1).max(64)
});
