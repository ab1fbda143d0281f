/**
 * Cluster kernels: a notebook's kernel as a SLURM job of its user, its channels relayed
 * by the bridge over the user's SSH connection (`GET …/kernels/{id}/channels/{channel}`).
 */
import { z } from 'zod';
import { ResourcesSchema, TierUsesSchema } from './jobs';

/**
 * pending (queued) → starting (the job runs, ipykernel not listening yet) → running, then
 * ended (the job completed), failed (TIMEOUT, NODE_FAIL, …) or cancelled.
 */
export const KernelStateSchema = z.enum([
  'pending',
  'starting',
  'running',
  'ended',
  'failed',
  'cancelled'
]);
export type KernelState = z.infer<typeof KernelStateSchema>;

export const TERMINAL_KERNEL_STATES: readonly KernelState[] = [
  'ended',
  'failed',
  'cancelled'
];

/** A kernel spec the lab adds to its kernel picker (`hpcb-<profile>`). */
export const KernelSpecSchema = z.object({
  name: z.string(),
  displayName: z.string(),
  profile: z.string(),
  language: z.literal('python')
});
export type KernelSpec = z.infer<typeof KernelSpecSchema>;

export const KernelSpecListSchema = z
  .object({ specs: z.array(KernelSpecSchema) })
  .meta({ id: 'KernelSpecList' });
export type KernelSpecList = z.infer<typeof KernelSpecListSchema>;

/** jupyter-server's kernel id (a UUID), from the connection file's name. */
const JupyterKernelIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9-]{1,64}$/, 'a Jupyter kernel id (letters, digits, -)');

/**
 * `POST /api/v1/kernels`. `connection.key` is the HMAC key of jupyter-server's
 * connection file: it goes to a 0600 file in the user's cluster account and nowhere else
 * (not the store, not a log, not a command line).
 */
export const KernelStartSchema = z
  .object({
    profile: z.string().min(1).max(64),
    jupyterKernelId: JupyterKernelIdSchema,
    connection: z.object({
      key: z
        .string()
        .min(1)
        .max(512)
        .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
      signatureScheme: z.enum(['hmac-sha256'])
    }),
    resources: ResourcesSchema.partial().optional(),
    /** Tiers the kernel's environment gets (`HPCB_TIER_*`), as for batch jobs. */
    tiers: TierUsesSchema.optional()
  })
  .meta({ id: 'KernelStart' });
export type KernelStart = z.infer<typeof KernelStartSchema>;

export const ClusterKernelSchema = z
  .object({
    id: z.string(),
    owner: z.string(),
    jupyterKernelId: z.string(),
    profile: z.string(),
    cluster: z.string(),
    partition: z.string(),
    resources: ResourcesSchema,
    state: KernelStateSchema,
    slurmId: z.string().nullable(),
    node: z.string().nullable(),
    /** squeue's reason while pending (`Priority`, `Resources`, …). */
    pendingReason: z.string().nullable(),
    /** 1-based among pending jobs of the partition. */
    queuePosition: z.number().int().positive().nullable(),
    expectedStart: z.iso.datetime().nullable(),
    /** When the job's walltime ends (known once it runs). */
    walltimeEnd: z.iso.datetime().nullable(),
    /** SLURM's end state (`TIMEOUT`, `NODE_FAIL`, `CANCELLED`, …) or the bridge's reason. */
    endedReason: z.string().nullable(),
    /** When its job started running (GPU-hours of course kernels count from here). */
    startedAt: z.iso.datetime().nullable().optional(),
    tiers: z.array(z.string()).optional(),
    createdAt: z.iso.datetime(),
    lastActivity: z.iso.datetime(),
    updatedAt: z.iso.datetime()
  })
  .meta({ id: 'ClusterKernel' });
export type ClusterKernel = z.infer<typeof ClusterKernelSchema>;

export const KernelListSchema = z
  .object({ kernels: z.array(ClusterKernelSchema) })
  .meta({ id: 'KernelList' });
export type KernelList = z.infer<typeof KernelListSchema>;

export const KernelIdParamsSchema = z.object({
  id: z.string().regex(/^[a-f0-9]{12}$/, 'a kernel id')
});

export const KERNEL_CHANNELS = [
  'shell',
  'iopub',
  'stdin',
  'control',
  'hb'
] as const;
export const KernelChannelSchema = z.enum(KERNEL_CHANNELS);
export type KernelChannel = z.infer<typeof KernelChannelSchema>;

export const KernelChannelParamsSchema = KernelIdParamsSchema.extend({
  channel: KernelChannelSchema
});

/** `PUT /api/v1/kernels/{id}/lease`: the launcher's heartbeat. */
export const KernelLeaseSchema = z
  .object({
    state: KernelStateSchema,
    leaseUntil: z.iso.datetime()
  })
  .meta({ id: 'KernelLease' });
export type KernelLease = z.infer<typeof KernelLeaseSchema>;
