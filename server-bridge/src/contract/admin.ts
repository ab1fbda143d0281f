/**
 * The admin dashboard (admins only): overview of all jobs, endpoints and tier usage,
 * usage per user or group, backend health over time, and the audit search.
 * Shared by the bridge and the panels; no Node-only imports.
 */
import { z } from 'zod';
import { EndpointStateSchema, ServingProviderNameSchema } from './endpoints';
import { JobStateSchema } from './jobs';
import { TierClassSchema } from './storage';

const UserNameSchema = z.string().min(1).max(256);

/** `GET /api/v1/admin/overview`. */
export const AdminOverviewQuerySchema = z.object({
  /** Only this user's jobs and endpoints. */
  user: UserNameSchema.optional(),
  /** Only jobs in this state (the counts still cover every state). */
  state: JobStateSchema.optional(),
  /** Jobs submitted at or after this time. */
  since: z.iso.datetime().optional(),
  /** How many of the newest jobs to list. */
  limit: z.coerce.number().int().min(1).max(500).default(50)
});
export type AdminOverviewQuery = z.input<typeof AdminOverviewQuerySchema>;

export const AdminJobSchema = z.object({
  id: z.string(),
  owner: z.string(),
  name: z.string(),
  cluster: z.string(),
  profile: z.string(),
  partition: z.string(),
  state: JobStateSchema,
  /** Array elements (1 for a plain job). */
  elements: z.number().int().nonnegative(),
  cpus: z.number().int().nonnegative(),
  gpus: z.number().int().nonnegative(),
  submittedAt: z.iso.datetime(),
  updatedAt: z.iso.datetime()
});
export type AdminJob = z.infer<typeof AdminJobSchema>;

export const AdminEndpointSchema = z.object({
  id: z.string(),
  name: z.string(),
  owner: z.string(),
  model: z.string(),
  provider: ServingProviderNameSchema,
  state: EndpointStateSchema,
  /** Replicas that are ready. */
  readyReplicas: z.number().int().nonnegative(),
  visibility: z.string(),
  group: z.string().nullable(),
  createdAt: z.iso.datetime()
});
export type AdminEndpoint = z.infer<typeof AdminEndpointSchema>;

/** One scope of a tier: a user's root (per-user tiers) or a group's. */
export const AdminTierScopeSchema = z.object({
  tier: z.string(),
  class: TierClassSchema,
  scope: z.enum(['user', 'group']),
  /** The user or group name. */
  name: z.string(),
  /** Null when the bridge has not measured this scope yet (it never walks just for this view). */
  bytes: z.number().int().nonnegative().nullable(),
  quotaBytes: z.number().int().positive().nullable(),
  measuredAt: z.iso.datetime().nullable()
});
export type AdminTierScope = z.infer<typeof AdminTierScopeSchema>;

export const AdminOverviewSchema = z
  .object({
    jobs: z.object({
      /** Jobs per state (after the user and since filters). */
      counts: z.record(z.string(), z.number().int().nonnegative()),
      total: z.number().int().nonnegative(),
      /** The newest matching jobs (all filters). */
      newest: z.array(AdminJobSchema)
    }),
    endpoints: z.array(AdminEndpointSchema),
    tiers: z.array(AdminTierScopeSchema)
  })
  .meta({ id: 'AdminOverview' });
export type AdminOverview = z.infer<typeof AdminOverviewSchema>;

/** `GET /api/v1/admin/usage`: the window defaults to the last 30 days. */
export const AdminUsageQuerySchema = z.object({
  since: z.iso.datetime().optional(),
  until: z.iso.datetime().optional(),
  by: z.enum(['user', 'group']).default('user')
});
export type AdminUsageQuery = z.input<typeof AdminUsageQuerySchema>;

export const AdminUsageRowSchema = z.object({
  /** The user or group name. */
  name: z.string(),
  /** by=group: the group's members the bridge knows of. */
  members: z.array(z.string()).optional(),
  jobs: z.number().int().nonnegative(),
  coreHours: z.number().nonnegative(),
  gpuHours: z.number().nonnegative(),
  /** Prompt + completion tokens through the gateway with the user's keys. */
  tokens: z.number().int().nonnegative(),
  /** Bytes in the scopes (measured ones only; see AdminTierScope.bytes). */
  bytes: z.number().int().nonnegative()
});
export type AdminUsageRow = z.infer<typeof AdminUsageRowSchema>;

export const AdminUsageSchema = z
  .object({
    since: z.iso.datetime(),
    until: z.iso.datetime(),
    by: z.enum(['user', 'group']),
    /** How running jobs count, in a sentence. */
    note: z.string(),
    rows: z.array(AdminUsageRowSchema)
  })
  .meta({ id: 'AdminUsage' });
export type AdminUsage = z.infer<typeof AdminUsageSchema>;

/** `GET /api/v1/admin/health`: samples kept 7 days, one per backend and minute. */
export const AdminHealthQuerySchema = z.object({
  hours: z.coerce.number().int().min(1).max(168).default(24)
});
export type AdminHealthQuery = z.input<typeof AdminHealthQuerySchema>;

export const HealthSampleSchema = z.object({
  ts: z.iso.datetime(),
  status: z.enum(['ok', 'degraded', 'down']),
  latencyMs: z.number().nonnegative(),
  /** What the check said (the failure's sentence). */
  detail: z.string().nullable()
});
export type HealthSample = z.infer<typeof HealthSampleSchema>;

export const BackendHistorySchema = z.object({
  /** e.g. `hub`, `cluster:demo`, `s3:demo`. */
  name: z.string(),
  /** Oldest first. */
  samples: z.array(HealthSampleSchema),
  /** Share of samples that were ok (0..1); null without samples. */
  okRatio: z.number().min(0).max(1).nullable()
});
export type BackendHistory = z.infer<typeof BackendHistorySchema>;

/** A replica whose heartbeat is recent (seen within three heartbeat intervals). */
export const LiveReplicaSchema = z.object({
  id: z.string(),
  startedAt: z.iso.datetime(),
  seenAt: z.iso.datetime()
});
export type LiveReplica = z.infer<typeof LiveReplicaSchema>;

/** The bridge's replicas: the one answering and the one running the pollers and sweepers. */
export const ReplicasSchema = z.object({
  replica: z.string(),
  /** Null while no replica holds the lease (one is about to take it over). */
  leader: z.string().nullable(),
  since: z.iso.datetime().nullable(),
  until: z.iso.datetime().nullable(),
  /** The live replicas, longest running first. */
  live: z.array(LiveReplicaSchema)
});
export type Replicas = z.infer<typeof ReplicasSchema>;

export const AdminHealthSchema = z
  .object({
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    intervalSeconds: z.number().int().positive(),
    backends: z.array(BackendHistorySchema),
    /** Absent when the bridge runs without the replica lease (tests). */
    replicas: ReplicasSchema.optional()
  })
  .meta({ id: 'AdminHealth' });
export type AdminHealth = z.infer<typeof AdminHealthSchema>;

/** `GET /api/v1/audit`: every filter narrows the result (AND). */
export const AuditSearchQuerySchema = z.object({
  user: UserNameSchema.optional(),
  /** Prefix of the action, e.g. `storage.` or `storage.read`. */
  action: z.string().max(128).optional(),
  /** Storage records of this tier (targets `tier:path`). */
  tier: z.string().max(64).optional(),
  /** Substring of the path inside the tier (with `tier`) or of the whole target. */
  path: z.string().max(1024).optional(),
  /** Substring of the target (kept for older clients; same as `path` without `tier`). */
  q: z.string().max(512).optional(),
  outcome: z.enum(['ok', 'refused', 'failed']).optional(),
  since: z.iso.datetime().optional(),
  until: z.iso.datetime().optional(),
  limit: z.coerce.number().int().min(1).max(10000).default(200),
  format: z.enum(['json', 'jsonl', 'csv']).default('json')
});
export type AuditSearchQuery = z.input<typeof AuditSearchQuerySchema>;

/** The columns of `format=csv`, in order. */
export const AUDIT_CSV_COLUMNS = [
  'id',
  'ts',
  'user',
  'action',
  'target',
  'outcome',
  'details'
] as const;
