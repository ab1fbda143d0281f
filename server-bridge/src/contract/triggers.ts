/**
 * Triggers: what the bridge does on its own when something happens — a file lands under
 * a tier prefix, a job ends, a schedule comes round, an endpoint goes idle — and the
 * record of each run. Shared by the bridge and the panels; no Node-only imports.
 */
import { z } from 'zod';
import {
  JobNameSchema,
  JobStateSchema,
  JobSubmitSchema,
  ParameterNameSchema
} from './jobs';
import { TierUriSchema } from './lineage';

export const TriggerNameSchema = z
  .string()
  .min(1)
  .max(80)
  .regex(/^[^\0-\x1f\x7f]+$/, 'a name without control characters');

/** Five fields (minute hour day-of-month month day-of-week), evaluated in UTC. */
export const CronSchema = z
  .string()
  .max(120)
  .regex(
    /^\s*([0-9*,/-]+)\s+([0-9*,/-]+)\s+([0-9*,/-]+)\s+([0-9*,/-]+)\s+([0-9*,/-]+)\s*$/,
    'five cron fields: minute hour day-of-month month day-of-week (UTC), e.g. "0 2 * * *"'
  );

/** A folder of a tier: `project:ml101/incoming/`. */
const TierFolderUriSchema = TierUriSchema.refine(
  u => u.endsWith('/') && !u.includes('{'),
  'a folder of a tier without placeholders, ending in "/" (e.g. project:ml101/incoming/)'
);

export const TriggerSourceSchema = z.discriminatedUnion('kind', [
  /** A new object under the prefix (found by a bounded listing scan with a cursor). */
  z.object({
    kind: z.literal('object.created'),
    prefix: TierFolderUriSchema,
    /** Only names matching this glob (`*.csv`); every object when absent. */
    match: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[^/\0-\x1f]+$/, 'a file-name glob such as *.csv')
      .optional()
  }),
  /** One of the owner's jobs ended in one of `states`. */
  z.object({
    kind: z.literal('job.ended'),
    states: z.array(JobStateSchema).min(1).default(['COMPLETED']),
    /** Only jobs that runs of this trigger submitted. */
    trigger: z.string().max(64).optional(),
    /** Only jobs with this name. */
    jobName: JobNameSchema.optional()
  }),
  z.object({ kind: z.literal('schedule'), cron: CronSchema }),
  /** The owner's endpoint served no request for `idleMinutes`. */
  z.object({
    kind: z.literal('endpoint.idle'),
    endpoint: z.string().min(1).max(64),
    idleMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
  })
]);
export type TriggerSource = z.infer<typeof TriggerSourceSchema>;

/**
 * The job a `submit` action sends: a job request whose inputs the event extends. For
 * `object.created` the new object is its first input (`HPCB_INPUT_0`) and the parameter
 * named `parameter` holds its tier URI; for `job.ended` the ended job's staged-out outputs
 * are its first inputs and `parameter` holds the job's id.
 */
export const TriggerJobSchema = JobSubmitSchema.omit({ webhookUrl: true });

export const TriggerActionSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('submit'),
    job: TriggerJobSchema,
    parameter: ParameterNameSchema.default('trigger_uri')
  }),
  /** Copies the new object, or the ended job's outputs, into a tier folder. */
  z.object({ kind: z.literal('copy'), to: TierFolderUriSchema }),
  /** POSTs the run's event (JSON) to an http(s) URL. */
  z.object({
    kind: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/ }).max(2048)
  }),
  /**
   * Rolls the owner's endpoint to the model file the ended job wrote as its output
   * `output` (same URL and keys: a new replica, then the old one drains).
   */
  z.object({
    kind: z.literal('roll-endpoint'),
    endpoint: z.string().min(1).max(64),
    output: z.number().int().nonnegative().default(0)
  })
]);
export type TriggerAction = z.infer<typeof TriggerActionSchema>;

export const TriggerLimitsSchema = z.object({
  /** Runs whose action is still going (a submitted job that has not ended counts). */
  maxConcurrent: z.number().int().min(1).max(100).default(2),
  /** Runs started in the last hour; further events wait (they are not dropped). */
  maxPerHour: z.number().int().min(1).max(1000).default(20)
});
export type TriggerLimits = z.infer<typeof TriggerLimitsSchema>;

export const TriggerStateSchema = z.enum(['active', 'paused']);

export const TriggerCreateSchema = z
  .object({
    name: TriggerNameSchema,
    source: TriggerSourceSchema,
    action: TriggerActionSchema,
    limits: TriggerLimitsSchema.partial().optional(),
    state: TriggerStateSchema.default('active')
  })
  .meta({ id: 'TriggerCreate' });
export type TriggerCreate = z.input<typeof TriggerCreateSchema>;

export const TriggerPatchSchema = z
  .object({
    name: TriggerNameSchema.optional(),
    state: TriggerStateSchema.optional(),
    limits: TriggerLimitsSchema.partial().optional()
  })
  .meta({ id: 'TriggerPatch' });
export type TriggerPatch = z.infer<typeof TriggerPatchSchema>;

/** What fired a run. */
export const TriggerEventSchema = z
  .object({
    kind: z.enum(['object.created', 'job.ended', 'schedule', 'endpoint.idle']),
    /** object.created: the object's tier URI and version. */
    uri: z.string().optional(),
    version: z
      .object({
        size: z.number().int().nonnegative().nullable(),
        lastModified: z.iso.datetime().nullable(),
        etag: z.string().optional()
      })
      .optional(),
    /** job.ended: the job and its end state. */
    jobId: z.string().optional(),
    jobState: JobStateSchema.optional(),
    /** schedule: the minute it was due. */
    due: z.iso.datetime().optional(),
    /** endpoint.idle: the endpoint. */
    endpoint: z.string().optional()
  })
  .meta({ id: 'TriggerEvent' });
export type TriggerEvent = z.infer<typeof TriggerEventSchema>;

export const TriggerRunStateSchema = z.enum([
  /** Held by the trigger's limits or its pause; starts when they allow. */
  'waiting',
  /** The action is being carried out (claimed with its idempotency key). */
  'starting',
  /** A submitted job is queued or running. */
  'running',
  'done',
  'failed'
]);
export type TriggerRunState = z.infer<typeof TriggerRunStateSchema>;

export const TriggerRunSchema = z
  .object({
    id: z.string(),
    trigger: z.string(),
    /** The idempotency key: the same event never makes a second run. */
    key: z.string(),
    event: TriggerEventSchema,
    state: TriggerRunStateSchema,
    firedAt: z.iso.datetime(),
    startedAt: z.iso.datetime().nullable(),
    endedAt: z.iso.datetime().nullable(),
    /** What the action did: the job it submitted, the objects it wrote, the answer's status. */
    result: z
      .object({
        jobId: z.string().optional(),
        objects: z.array(z.string()).optional(),
        status: z.number().int().optional(),
        endpoint: z.string().optional()
      })
      .nullable(),
    /** Why it failed, or why it waits. */
    reason: z.string().nullable()
  })
  .meta({ id: 'TriggerRun' });
export type TriggerRun = z.infer<typeof TriggerRunSchema>;

export const TriggerSchema = z
  .object({
    id: z.string(),
    owner: z.string(),
    name: z.string(),
    source: TriggerSourceSchema,
    action: TriggerActionSchema,
    limits: TriggerLimitsSchema,
    state: TriggerStateSchema,
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    /** The newest runs first (at most 5). */
    lastRuns: z.array(TriggerRunSchema)
  })
  .meta({ id: 'Trigger' });
export type Trigger = z.infer<typeof TriggerSchema>;

export const TriggerListSchema = z
  .object({ triggers: z.array(TriggerSchema) })
  .meta({ id: 'TriggerList' });
export type TriggerList = z.infer<typeof TriggerListSchema>;

export const TriggerRunListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Runs fired before this run id (paging back). */
  before: z.string().max(64).optional()
});

export const TriggerRunListSchema = z
  .object({ runs: z.array(TriggerRunSchema) })
  .meta({ id: 'TriggerRunList' });
export type TriggerRunList = z.infer<typeof TriggerRunListSchema>;

/** `POST /triggers/{id}/dry-run`: what would fire now, and whether it would start. */
export const TriggerDryRunSchema = z
  .object({
    events: z.array(
      z.object({
        key: z.string(),
        event: TriggerEventSchema,
        /** `run`: would start now; `wait`: held by a limit or the pause; `seen`: ran already. */
        outcome: z.enum(['run', 'wait', 'seen']),
        reason: z.string().nullable()
      })
    ),
    /** The event list was cut at the scan's bound; more would follow. */
    truncated: z.boolean()
  })
  .meta({ id: 'TriggerDryRun' });
export type TriggerDryRun = z.infer<typeof TriggerDryRunSchema>;

export const TriggerIdParamsSchema = z.object({
  id: z.string().min(1).max(64)
});
