/**
 * Jobs: notebooks (whole, or a subset of cells) run as SLURM jobs or arrays.
 * Shared by the bridge and the panels; no Node-only imports.
 */
import { z } from 'zod';
import {
  JobDataEstimateSchema,
  JobEndpointRefsSchema,
  JobEndpointSchema,
  JobInputSchema,
  JobInputsSchema,
  JobOutputSchema,
  JobOutputsSchema
} from './lineage';

/** Names that end up in SLURM and in file names: no shell or path metacharacters. */
export const JobNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    'letters, digits, ".", "_" and "-" only (at most 64, starting with a letter or digit)'
  );

/**
 * A Jupyter contents path relative to the user's server root: no `..` segment,
 * no leading `/`, no backslashes or control characters.
 */
export const NotebookPathSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    p =>
      !p.startsWith('/') &&
      !/[\\\0-\x1f\x7f]/.test(p) &&
      p.split('/').every(s => s !== '..' && s !== '.' && s !== '') &&
      p.endsWith('.ipynb'),
    'a relative notebook path (…/name.ipynb) without "..", "." or empty segments'
  );

/** A parameter name: a Python identifier (papermill convention). */
export const ParameterNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a Python identifier');

/** Parameter values are JSON scalars or flat lists of scalars; they become Python literals. */
export const ParameterScalarSchema = z.union([
  z.string().max(4096),
  z.number().finite(),
  z.boolean(),
  z.null()
]);
export const ParameterValueSchema = z.union([
  ParameterScalarSchema,
  z.array(ParameterScalarSchema).max(1000)
]);
export type ParameterValue = z.infer<typeof ParameterValueSchema>;

export const ParametersSchema = z
  .record(ParameterNameSchema, ParameterValueSchema)
  .refine(p => Object.keys(p).length <= 100, 'at most 100 parameters');
export type Parameters = z.infer<typeof ParametersSchema>;

/** A grid: every combination of the listed values is one array element. */
export const SweepSchema = z
  .record(ParameterNameSchema, z.array(ParameterScalarSchema).min(1).max(1000))
  .refine(
    s => Object.keys(s).length >= 1,
    'a sweep needs at least one parameter'
  );
export type Sweep = z.infer<typeof SweepSchema>;

/** The most elements one sweep may expand to. */
export const MAX_SWEEP_ELEMENTS = 1000;

const RangeSchema = z.object({
  default: z.number().int().nonnegative(),
  min: z.number().int().nonnegative(),
  max: z.number().int().nonnegative()
});

/** An admin preset; users may adjust within the ranges. */
export const ProfileSchema = z
  .object({
    name: z.string(),
    title: z.string(),
    description: z.string().optional(),
    cluster: z.string(),
    partition: z.string(),
    timeMinutes: RangeSchema,
    cpus: RangeSchema,
    memoryMB: RangeSchema,
    gpus: RangeSchema,
    /** A course's job profile (members of that hub group only; per-student limits apply). */
    course: z.string().optional(),
    /** The SLURM reservation the profile's jobs run in. */
    reservation: z.string().optional(),
    /** Kernelspec names its jobs can run (a notebook with another is refused); python3 when absent. */
    kernels: z.array(z.string()).optional()
  })
  .meta({ id: 'Profile' });
export type Profile = z.infer<typeof ProfileSchema>;

export const ProfileListSchema = z
  .object({ profiles: z.array(ProfileSchema) })
  .meta({ id: 'ProfileList' });
export type ProfileList = z.infer<typeof ProfileListSchema>;

export const ResourcesSchema = z.object({
  timeMinutes: z.number().int().positive(),
  cpus: z.number().int().positive(),
  memoryMB: z.number().int().positive(),
  gpus: z.number().int().nonnegative()
});
export type Resources = z.infer<typeof ResourcesSchema>;

/** A notebook in nbformat 4; only the fields the bridge needs are checked. */
export const NotebookContentSchema = z.looseObject({
  nbformat: z.literal(4),
  nbformat_minor: z.number().int(),
  metadata: z.record(z.string(), z.unknown()),
  cells: z
    .array(
      z.looseObject({
        cell_type: z.enum(['code', 'markdown', 'raw']),
        source: z.union([z.string(), z.array(z.string())]),
        metadata: z.record(z.string(), z.unknown()).optional()
      })
    )
    .max(5000)
});
export type NotebookContent = z.infer<typeof NotebookContentSchema>;

/**
 * A storage tier a job or an endpoint uses: `tier`, or `tier:group` to pick the group
 * folder of a tier with one folder per group.
 */
export const TierUseSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,31}(:[A-Za-z0-9_@+-][A-Za-z0-9._@+-]{0,63})?$/,
    'a tier name, or tier:group'
  );

/** The tiers of one job or endpoint. */
export const TierUsesSchema = z.array(TierUseSchema).min(1).max(16);

export const JobSubmitSchema = z
  .object({
    name: JobNameSchema,
    notebook: z.object({
      path: NotebookPathSchema,
      content: NotebookContentSchema
    }),
    /** Indices of the cells to run (e.g. the `setup` cells + a selection); all when absent. */
    cells: z.array(z.number().int().nonnegative()).min(1).max(5000).optional(),
    profile: z.string(),
    /** Overrides of the profile's defaults, each within the profile's range. */
    resources: ResourcesSchema.partial().optional(),
    parameters: ParametersSchema.optional(),
    sweep: SweepSchema.optional(),
    /**
     * Storage tiers the job uses. Each must be readable by the user; the job gets its
     * location as `HPCB_TIER_<NAME>` (and `HPCB_S3_ENDPOINT` for s3 tiers), and data-class
     * policies apply (sensitive tiers only on compliant partitions).
     */
    tiers: TierUsesSchema.optional(),
    /**
     * Tier URIs the job reads: each must exist and be readable; copied into the working
     * directory before sbatch (paths on the job's cluster are passed as they are), seen by
     * the job as `HPCB_INPUT_<i>`.
     */
    inputs: JobInputsSchema.optional(),
    /**
     * Tier URIs the job writes (`archive:results/{job}/`; a trailing `/` for a folder):
     * each must be writable and its quota must hold `estimateBytes`. The job writes
     * output `i` at `HPCB_OUTPUT_<i>` (inside `HPCB_OUTPUT_DIR`); the bridge copies it to
     * its tier when the element completes and records its lineage.
     */
    outputs: JobOutputsSchema.optional(),
    /**
     * Endpoints (names or ids) the job calls through the gateway: each must be the
     * user's own. The job gets a key per endpoint (revoked when it ends), as
     * `HPCB_ENDPOINT_<NAME>_URL`/`_KEY` and, for the first, `OPENAI_BASE_URL`/`OPENAI_API_KEY`.
     */
    endpoints: JobEndpointRefsSchema.optional(),
    /** Called with the job (POST, JSON) when it ends. http(s) only. */
    webhookUrl: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional()
  })
  .meta({ id: 'JobSubmit' });
export type JobSubmit = z.infer<typeof JobSubmitSchema>;

export const JobStateSchema = z.enum([
  'SUBMITTED',
  'PENDING',
  'RUNNING',
  'SUSPENDED',
  'COMPLETING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'UNKNOWN'
]);
export type JobState = z.infer<typeof JobStateSchema>;

/** States after which nothing changes any more. */
export const TERMINAL_JOB_STATES: readonly JobState[] = [
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE'
];

export const ProgressSchema = z.object({
  /** Cells finished so far. */
  cell: z.number().int().nonnegative(),
  of: z.number().int().nonnegative()
});
export type Progress = z.infer<typeof ProgressSchema>;

/**
 * The exception that stopped a notebook (papermill's PapermillExecutionError): its name,
 * its value and the index of the failing cell in the output notebook (null when the
 * kernel could not start).
 */
export const JobErrorSchema = z
  .object({
    ename: z.string().max(200),
    evalue: z.string().max(2000),
    cell: z.number().int().nonnegative().nullable()
  })
  .meta({ id: 'JobError' });
export type JobError = z.infer<typeof JobErrorSchema>;

/** One SLURM job: the whole job, or one element of an array. */
export const JobElementSchema = z.object({
  /** Array index; 0 for a job that is not an array. */
  index: z.number().int().nonnegative(),
  /** `1234` or `1234_2`. */
  slurmId: z.string().nullable(),
  state: JobStateSchema,
  /** SLURM's pending reason or failure reason. */
  reason: z.string().nullable(),
  node: z.string().nullable(),
  /** `exit:signal`, e.g. `0:0`, `1:0`. */
  exitCode: z.string().nullable(),
  elapsedSeconds: z.number().int().nonnegative().nullable(),
  maxRssMB: z.number().nonnegative().nullable(),
  progress: ProgressSchema.nullable(),
  /** Why the notebook failed, once the runner has said so; null or absent otherwise. */
  error: JobErrorSchema.nullable().optional(),
  /** The parameters of this element (the job's parameters + its sweep point). */
  parameters: ParametersSchema,
  startedAt: z.iso.datetime().nullable(),
  endedAt: z.iso.datetime().nullable()
});
export type JobElement = z.infer<typeof JobElementSchema>;

export const JobSchema = z
  .object({
    id: z.string(),
    owner: z.string(),
    cluster: z.string(),
    name: z.string(),
    notebookPath: z.string(),
    profile: z.string(),
    partition: z.string(),
    resources: ResourcesSchema,
    /** The overall state (for arrays: running while any element runs, FAILED if any failed). */
    state: JobStateSchema,
    /** The SLURM job id (the array's id for a sweep). */
    slurmId: z.string().nullable(),
    isArray: z.boolean(),
    elements: z.array(JobElementSchema),
    /** The error of the first element that failed in a cell (see the element's `error`). */
    error: JobErrorSchema.nullable().optional(),
    /** 1-based position among pending jobs of the partition, by priority; null unless pending. */
    queuePosition: z.number().int().positive().nullable(),
    /** SLURM's expected start while pending. */
    expectedStart: z.iso.datetime().nullable(),
    submittedAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    /** The job this one was resubmitted from. */
    resubmittedFrom: z.string().nullable(),
    /** The storage tiers it uses (`tier` or `tier:group`). */
    tiers: z.array(z.string()).optional(),
    /** Its declared inputs with the versions read at submit. */
    inputs: z.array(JobInputSchema).optional(),
    /** Its declared outputs, one entry per output and element, with the stage-out state. */
    outputs: z.array(JobOutputSchema).optional(),
    /** The trigger run that submitted it. */
    trigger: z.object({ id: z.string(), run: z.string() }).optional(),
    /** The endpoints it declared it calls. */
    endpoints: z.array(JobEndpointSchema).optional()
  })
  .meta({ id: 'Job' });
export type Job = z.infer<typeof JobSchema>;

export const JobListQuerySchema = z.object({
  state: JobStateSchema.optional(),
  /** Substring of the job name. */
  name: z.string().max(64).optional(),
  /** Jobs submitted at or after this time. */
  since: z.iso.datetime().optional(),
  /** Admins only: every user's jobs. */
  all: z.enum(['true', 'false']).optional()
});
export type JobListQuery = z.infer<typeof JobListQuerySchema>;

export const JobListSchema = z
  .object({ jobs: z.array(JobSchema) })
  .meta({ id: 'JobList' });
export type JobList = z.infer<typeof JobListSchema>;

export const JobIdParamsSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/)
});

export const JobLogQuerySchema = z.object({
  stream: z.enum(['stdout', 'stderr']).default('stdout'),
  element: z.coerce.number().int().nonnegative().default(0),
  /** Keep the response open and send new lines as they arrive, until the job ends. */
  follow: z.enum(['0', '1', 'true', 'false']).optional(),
  /** Bytes from the end to start with. */
  tail: z.coerce.number().int().positive().max(10_000_000).default(65536)
});

export const JobOutputQuerySchema = z.object({
  element: z.coerce.number().int().nonnegative().default(0)
});

/** `POST /api/v1/jobs/estimate`: `sbatch --test-only` for the same request. */
export const JobEstimateSchema = z
  .object({
    expectedStart: z.iso.datetime().nullable(),
    /** What SLURM said, e.g. `Job 12 to start at … using 1 processors on nodes node1 in partition cpu`. */
    message: z.string(),
    /** The checks of the declared inputs and outputs; absent when the request has none. */
    data: JobDataEstimateSchema.optional()
  })
  .meta({ id: 'JobEstimate' });
export type JobEstimate = z.infer<typeof JobEstimateSchema>;

/** The user's key for a cluster; the public half is to be installed in ~/.ssh/authorized_keys. */
export const SshCredentialSchema = z
  .object({
    cluster: z.string(),
    clusterUser: z.string(),
    publicKey: z.string(),
    fingerprint: z.string(),
    /** How to install the key, as a sentence with the command to run. */
    instructions: z.string()
  })
  .meta({ id: 'SshCredential' });
export type SshCredential = z.infer<typeof SshCredentialSchema>;
