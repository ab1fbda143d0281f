/**
 * The HTTP contract of the HPC Bridge, shared by the bridge (request/response
 * validation, OpenAPI) and the JupyterLab panels (response validation).
 *
 * Keep this module free of Node-only imports: it is bundled into the labextension.
 */
import { z } from 'zod';

export const API_PREFIX = '/api/v1';

/** Version of this contract; panels compare it with the bridge's at start. */
export const CONTRACT_VERSION = '1';

export const ErrorCodeSchema = z.enum([
  'bad_request',
  'unauthenticated',
  'forbidden',
  'not_found',
  'conflict',
  'rate_limited',
  'upstream_unavailable',
  /** The cluster refused the user's key; `details` is an SshCredential to install. */
  'cluster_auth_failed',
  /** A write would exceed the tier's quota; nothing was written. */
  'quota_exceeded',
  /** A data-class policy forbids it; the message names the rule (`details.rule`). */
  'policy_refused',
  /** A course's per-student job limit refuses the job; the message names the rule and numbers. */
  'course_limit',
  'internal'
]);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: ErrorCodeSchema,
      message: z.string(),
      details: z.unknown().optional()
    })
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export const RoleSchema = z.enum(['researcher', 'instructor', 'admin']);
export type Role = z.infer<typeof RoleSchema>;

export const WhoamiSchema = z
  .object({
    name: z.string(),
    groups: z.array(z.string()),
    roles: z.array(RoleSchema)
  })
  .meta({ id: 'Whoami' });
export type Whoami = z.infer<typeof WhoamiSchema>;

export const VersionSchema = z
  .object({
    name: z.literal('hpc-bridge'),
    version: z.string(),
    contract: z.string()
  })
  .meta({ id: 'Version' });
export type Version = z.infer<typeof VersionSchema>;

export const ComponentStatusSchema = z.enum(['ok', 'degraded', 'down']);
export type ComponentStatus = z.infer<typeof ComponentStatusSchema>;

export const ComponentHealthSchema = z.object({
  /** e.g. `hub`, `cluster:demo`, `s3:demo`. */
  name: z.string(),
  kind: z.enum(['hub', 'cluster', 's3']),
  status: ComponentStatusSchema,
  /** Milliseconds the check took. */
  latencyMs: z.number().nonnegative(),
  detail: z.string().optional(),
  /** Sub-checks, e.g. `ssh` and `slurmctld` for a cluster. */
  checks: z.record(z.string(), ComponentStatusSchema).optional()
});
export type ComponentHealth = z.infer<typeof ComponentHealthSchema>;

/**
 * `GET /api/v1/health`. Always 200 once authenticated; `status` is the worst of the
 * components' statuses.
 */
export const HealthSchema = z
  .object({
    status: ComponentStatusSchema,
    version: z.string(),
    components: z.array(ComponentHealthSchema)
  })
  .meta({ id: 'Health' });
export type Health = z.infer<typeof HealthSchema>;

export const PartitionSchema = z.object({
  name: z.string(),
  default: z.boolean(),
  /** Aggregated node state, e.g. `up`, `down`, `drain`. */
  state: z.string(),
  nodes: z.object({ total: z.number().int(), idle: z.number().int() }),
  cpus: z.object({ total: z.number().int(), idle: z.number().int() }),
  gpus: z.object({ total: z.number().int(), idle: z.number().int() }),
  /** Max walltime in minutes, or null when unlimited. */
  maxTimeMinutes: z.number().int().nullable()
});
export type Partition = z.infer<typeof PartitionSchema>;

export const ClusterSchema = z.object({
  name: z.string(),
  title: z.string(),
  status: ComponentStatusSchema,
  /** Set when the cluster could not be queried; partitions are then empty. */
  error: z.string().optional(),
  partitions: z.array(PartitionSchema),
  updatedAt: z.iso.datetime()
});
export type Cluster = z.infer<typeof ClusterSchema>;

/** Query of `GET /api/v1/clusters`: `refresh=true` skips the bridge's few-seconds cache. */
export const ClusterListQuerySchema = z.object({
  refresh: z
    .enum(['true', 'false'])
    .transform(v => v === 'true')
    .optional()
});
export type ClusterListQuery = z.input<typeof ClusterListQuerySchema>;

/**
 * `GET /api/v1/clusters`. Always 200 once authenticated: a cluster that cannot be
 * queried (ssh or slurmctld down) is listed with `status: 'down'`, an `error` and no
 * partitions, so that the panel can show it next to the clusters that work.
 */
export const ClusterListSchema = z
  .object({ clusters: z.array(ClusterSchema) })
  .meta({ id: 'ClusterList' });
export type ClusterList = z.infer<typeof ClusterListSchema>;

/** Route paths, relative to the bridge's base URL. */
export const Routes = {
  version: `${API_PREFIX}/version`,
  whoami: `${API_PREFIX}/whoami`,
  health: `${API_PREFIX}/health`,
  clusters: `${API_PREFIX}/clusters`,
  openapi: `${API_PREFIX}/openapi.json`,
  profiles: `${API_PREFIX}/profiles`,
  jobs: `${API_PREFIX}/jobs`,
  jobsEstimate: `${API_PREFIX}/jobs/estimate`,
  job: (id: string) => `${API_PREFIX}/jobs/${encodeURIComponent(id)}`,
  jobAction: (id: string, action: 'cancel' | 'hold' | 'release' | 'resubmit') =>
    `${API_PREFIX}/jobs/${encodeURIComponent(id)}/${action}`,
  jobLog: (id: string) => `${API_PREFIX}/jobs/${encodeURIComponent(id)}/log`,
  jobOutput: (id: string) =>
    `${API_PREFIX}/jobs/${encodeURIComponent(id)}/output`,
  events: `${API_PREFIX}/events`,
  sshCredential: `${API_PREFIX}/credentials/ssh`,
  tiers: `${API_PREFIX}/tiers`,
  tierFiles: (tier: string) =>
    `${API_PREFIX}/tiers/${encodeURIComponent(tier)}/files`,
  tierStat: (tier: string) =>
    `${API_PREFIX}/tiers/${encodeURIComponent(tier)}/stat`,
  tierContent: (tier: string) =>
    `${API_PREFIX}/tiers/${encodeURIComponent(tier)}/content`,
  tierMkdir: (tier: string) =>
    `${API_PREFIX}/tiers/${encodeURIComponent(tier)}/mkdir`,
  tierRename: (tier: string) =>
    `${API_PREFIX}/tiers/${encodeURIComponent(tier)}/rename`,
  tierCopy: (tier: string) =>
    `${API_PREFIX}/tiers/${encodeURIComponent(tier)}/copy`,
  tierUploads: (tier: string) =>
    `${API_PREFIX}/tiers/${encodeURIComponent(tier)}/uploads`,
  tierUpload: (tier: string, uploadId: string) =>
    `${API_PREFIX}/tiers/${encodeURIComponent(tier)}/uploads/${encodeURIComponent(uploadId)}`,
  tierUploadPart: (tier: string, uploadId: string, partNumber: number) =>
    `${API_PREFIX}/tiers/${encodeURIComponent(tier)}/uploads/${encodeURIComponent(uploadId)}/parts/${partNumber}`,
  tierUploadComplete: (tier: string, uploadId: string) =>
    `${API_PREFIX}/tiers/${encodeURIComponent(tier)}/uploads/${encodeURIComponent(uploadId)}/complete`,
  tierLinks: (tier: string) =>
    `${API_PREFIX}/tiers/${encodeURIComponent(tier)}/links`,
  tierCodeAccess: (tier: string) =>
    `${API_PREFIX}/tiers/${encodeURIComponent(tier)}/code-access`,
  transfer: (id: string) => `${API_PREFIX}/transfers/${encodeURIComponent(id)}`,
  links: `${API_PREFIX}/links`,
  link: (id: string) => `${API_PREFIX}/links/${encodeURIComponent(id)}`,
  /** Anonymous: the shared file itself. */
  publicLink: (id: string) =>
    `${API_PREFIX}/public/links/${encodeURIComponent(id)}`,
  audit: `${API_PREFIX}/audit`,
  lineage: `${API_PREFIX}/lineage`,
  triggers: `${API_PREFIX}/triggers`,
  trigger: (id: string) => `${API_PREFIX}/triggers/${encodeURIComponent(id)}`,
  triggerRuns: (id: string) =>
    `${API_PREFIX}/triggers/${encodeURIComponent(id)}/runs`,
  triggerDryRun: (id: string) =>
    `${API_PREFIX}/triggers/${encodeURIComponent(id)}/dry-run`,
  adminOverview: `${API_PREFIX}/admin/overview`,
  adminUsage: `${API_PREFIX}/admin/usage`,
  adminHealth: `${API_PREFIX}/admin/health`,
  endpoints: `${API_PREFIX}/endpoints`,
  endpoint: (id: string) => `${API_PREFIX}/endpoints/${encodeURIComponent(id)}`,
  endpointAction: (id: string, action: 'start' | 'stop') =>
    `${API_PREFIX}/endpoints/${encodeURIComponent(id)}/${action}`,
  endpointKeys: (id: string) =>
    `${API_PREFIX}/endpoints/${encodeURIComponent(id)}/keys`,
  endpointKey: (id: string, keyId: string) =>
    `${API_PREFIX}/endpoints/${encodeURIComponent(id)}/keys/${encodeURIComponent(keyId)}`,
  endpointMetrics: (id: string) =>
    `${API_PREFIX}/endpoints/${encodeURIComponent(id)}/metrics`,
  endpointRoll: (id: string) =>
    `${API_PREFIX}/endpoints/${encodeURIComponent(id)}/roll`,
  /** GET: the catalog and the caller's own models; POST: register a model file. */
  modelCatalog: `${API_PREFIX}/models`,
  userModel: (name: string) =>
    `${API_PREFIX}/models/${encodeURIComponent(name)}`,
  courses: `${API_PREFIX}/courses`,
  course: (course: string) =>
    `${API_PREFIX}/courses/${encodeURIComponent(course)}`,
  courseEndpointKey: (course: string) =>
    `${API_PREFIX}/courses/${encodeURIComponent(course)}/endpoint-key`,
  courseStudentKey: (course: string, student: string) =>
    `${API_PREFIX}/courses/${encodeURIComponent(course)}/endpoint-keys/${encodeURIComponent(student)}`,
  courseUsage: (course: string) =>
    `${API_PREFIX}/courses/${encodeURIComponent(course)}/usage`,
  courseJobs: (course: string) =>
    `${API_PREFIX}/courses/${encodeURIComponent(course)}/jobs`,
  courseDatasetFiles: (course: string) =>
    `${API_PREFIX}/courses/${encodeURIComponent(course)}/dataset/files`,
  courseDatasetContent: (course: string) =>
    `${API_PREFIX}/courses/${encodeURIComponent(course)}/dataset/content`,
  kernelSpecs: `${API_PREFIX}/kernels/specs`,
  kernels: `${API_PREFIX}/kernels`,
  kernel: (id: string) => `${API_PREFIX}/kernels/${encodeURIComponent(id)}`,
  kernelLease: (id: string) =>
    `${API_PREFIX}/kernels/${encodeURIComponent(id)}/lease`,
  kernelChannel: (id: string, channel: string) =>
    `${API_PREFIX}/kernels/${encodeURIComponent(id)}/channels/${encodeURIComponent(channel)}`,
  adminKernels: `${API_PREFIX}/admin/kernels`,
  assistantEndpoints: `${API_PREFIX}/assistant/endpoints`,
  assistantComplete: `${API_PREFIX}/assistant/complete`,
  conversations: `${API_PREFIX}/assistant/conversations`,
  conversation: (id: string) =>
    `${API_PREFIX}/assistant/conversations/${encodeURIComponent(id)}`,
  conversationMessages: (id: string) =>
    `${API_PREFIX}/assistant/conversations/${encodeURIComponent(id)}/messages`
} as const;

export * from './admin';
export * from './assistant';
export * from './courses';
export * from './endpoints';
export * from './events';
export * from './jobs';
export * from './kernels';
export * from './lineage';
export * from './models';
export * from './storage';
export * from './triggers';
