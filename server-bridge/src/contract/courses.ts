/**
 * Course mode: an instructor of hub group G (a member of G + `roles.instructorGroupSuffix`)
 * shares an endpoint (one key per student, with a token budget), a read-only dataset
 * folder and a job profile with per-student limits with the members of G, and sees their
 * usage and job states.
 */
import { z } from 'zod';
import { CourseAssistantSchema } from './assistant';
import { JobStateSchema } from './jobs';
import { FileEntrySchema, TierItemPathSchema, TierPathSchema } from './storage';

/** A course is named after its hub group. */
export const CourseNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/,
    'a hub group name: letters, digits, . _ -'
  );

export const CourseParamsSchema = z.object({ course: CourseNameSchema });

export const CourseStudentParamsSchema = z.object({
  course: CourseNameSchema,
  student: z.string().min(1).max(64)
});

export const CourseRoleSchema = z.enum(['instructor', 'student']);
export type CourseRole = z.infer<typeof CourseRoleSchema>;

export const CourseEndpointShareSchema = z.object({
  /** An endpoint the instructor owns. */
  endpointId: z.string().min(1).max(64),
  /** Prompt + completion tokens each student may use in total. */
  tokenBudget: z.number().int().positive(),
  /** Requests per minute of each student's key; null: unlimited. */
  requestsPerMinute: z.number().int().positive().nullable().default(null)
});
export type CourseEndpointShare = z.infer<typeof CourseEndpointShareSchema>;

export const CourseDatasetShareSchema = z.object({
  /** A tier the instructor can read. */
  tier: z.string().min(1).max(64),
  /** A folder of that tier (as the instructor sees it), shared read-only. */
  path: TierItemPathSchema
});
export type CourseDatasetShare = z.infer<typeof CourseDatasetShareSchema>;

/** A SLURM reservation: one word that sbatch takes as it is. */
export const ReservationNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/,
    'a SLURM reservation name: letters, digits, . _ -'
  );

/** Per-student limits of the course's jobs; null: no limit. */
export const CourseJobLimitsSchema = z.object({
  /** Queued or running jobs (a sweep counts once) each student may have at a time. */
  maxActiveJobs: z.number().int().positive().max(1000).nullable().default(null),
  /** GPU-hours (elapsed × GPUs, all their course jobs) each student may use in total. */
  gpuHoursBudget: z.number().positive().max(1_000_000).nullable().default(null)
});
export type CourseJobLimits = z.infer<typeof CourseJobLimitsSchema>;

/** The course's job profile: one of the admin's profiles, a reservation, per-student limits. */
export const CourseJobProfileShareSchema = CourseJobLimitsSchema.extend({
  /** The name of an admin profile (config `profiles`): partition and resource ranges. */
  baseProfile: z.string().min(1).max(64),
  reservation: ReservationNameSchema.nullable().default(null),
  /** Offer the profile to the class as a cluster kernel too (its limits count kernels). */
  kernel: z.boolean().default(false)
});
export type CourseJobProfileShare = z.input<typeof CourseJobProfileShareSchema>;

/** `PUT /courses/{course}`: fields left out stay as they are; null removes a share. */
export const CourseUpdateSchema = z
  .object({
    title: z.string().trim().min(1).max(120).optional(),
    endpoint: CourseEndpointShareSchema.nullable().optional(),
    dataset: CourseDatasetShareSchema.nullable().optional(),
    jobProfile: CourseJobProfileShareSchema.nullable().optional(),
    /** Completion and chat on the course endpoint for the class, in the editor. */
    assistant: CourseAssistantSchema.optional()
  })
  .meta({ id: 'CourseUpdate' });
export type CourseUpdate = z.input<typeof CourseUpdateSchema>;

export const CourseSummarySchema = z.object({
  name: z.string(),
  title: z.string(),
  role: CourseRoleSchema,
  /** Whether the instructor has saved the course's settings; a student of a course without them sees that it is not set up yet. */
  configured: z.boolean()
});

export const CourseListSchema = z
  .object({ courses: z.array(CourseSummarySchema) })
  .meta({ id: 'CourseList' });
export type CourseList = z.infer<typeof CourseListSchema>;

export const CourseKeyStatusSchema = z.object({
  prefix: z.string(),
  createdAt: z.iso.datetime(),
  revokedAt: z.iso.datetime().nullable()
});

/** A student's course jobs against the limits. */
export const CourseJobAllowanceSchema = z.object({
  /** Ids of their queued or running course jobs. */
  activeJobIds: z.array(z.string()),
  maxActiveJobs: z.number().int().nullable(),
  /** Jobs they may still start now; null: no limit. */
  jobsLeft: z.number().int().nullable(),
  gpuHoursUsed: z.number(),
  gpuHoursBudget: z.number().nullable(),
  gpuHoursLeft: z.number().nullable()
});
export type CourseJobAllowance = z.infer<typeof CourseJobAllowanceSchema>;

export const CourseJobProfileSchema = z.object({
  /** The name students submit with (`course:NAME`). */
  profile: z.string(),
  baseProfile: z.string(),
  partition: z.string(),
  reservation: z.string().nullable(),
  maxActiveJobs: z.number().int().nullable(),
  gpuHoursBudget: z.number().nullable(),
  /** Whether the class sees it in the kernel picker. */
  kernel: z.boolean()
});
export type CourseJobProfile = z.infer<typeof CourseJobProfileSchema>;

export const CourseSchema = z
  .object({
    name: z.string(),
    title: z.string(),
    role: CourseRoleSchema,
    /** Who last changed the settings; null before the first change. */
    updatedBy: z.string().nullable(),
    updatedAt: z.iso.datetime().nullable(),
    endpoint: z
      .object({
        id: z.string(),
        name: z.string(),
        model: z.string(),
        state: z.string(),
        tokenBudget: z.number().int(),
        requestsPerMinute: z.number().int().nullable()
      })
      .nullable(),
    dataset: z
      .object({ tier: z.string(), path: z.string(), owner: z.string() })
      .nullable(),
    /** Students: their own key (never the secret), null before "Get my key". */
    myKey: CourseKeyStatusSchema.nullable(),
    /** Students: tokens left of their budget on the course endpoint; null without one. */
    myBudgetLeft: z.number().int().nullable(),
    /** The course's job profile; null when the instructor has set none. */
    jobProfile: CourseJobProfileSchema.nullable(),
    /** Students: their course jobs against the limits; null without a job profile. */
    myJobs: CourseJobAllowanceSchema.nullable(),
    /** Whether the class may use the course endpoint for completion and chat. */
    assistant: CourseAssistantSchema
  })
  .meta({ id: 'Course' });
export type Course = z.infer<typeof CourseSchema>;

export const CourseKeyCreatedSchema = z
  .object({
    /** The key itself: shown only in this answer. */
    key: z.string(),
    prefix: z.string(),
    endpointId: z.string(),
    model: z.string(),
    tokenBudget: z.number().int(),
    /** What is left of the student's course budget (earlier keys count). */
    tokensLeft: z.number().int(),
    requestsPerMinute: z.number().int().nullable()
  })
  .meta({ id: 'CourseKeyCreated' });
export type CourseKeyCreated = z.infer<typeof CourseKeyCreatedSchema>;

export const CourseStudentUsageSchema = z.object({
  student: z.string(),
  /** The student's current key; null when they have none or it was revoked. */
  key: CourseKeyStatusSchema.nullable(),
  requests: z.number().int(),
  tokensUsed: z.number().int(),
  tokenBudget: z.number().int(),
  budgetLeft: z.number().int(),
  /** Their course jobs against the limits; null when the course has no job profile. */
  jobs: CourseJobAllowanceSchema.nullable(),
  /** Of `tokensUsed`, what the editor's assistant used: inline completion and chat. */
  completionTokens: z.number().int(),
  chatTokens: z.number().int()
});

export const CourseUsageSchema = z
  .object({
    /** The shared endpoint; null: no token columns (the students' rows count 0 tokens). */
    endpointId: z.string().nullable(),
    students: z.array(CourseStudentUsageSchema)
  })
  .meta({ id: 'CourseUsage' });
export type CourseUsage = z.infer<typeof CourseUsageSchema>;

/** A course member's job as the instructor sees it: no notebook, outputs or logs. */
export const CourseJobSchema = z.object({
  id: z.string(),
  owner: z.string(),
  name: z.string(),
  profile: z.string(),
  state: JobStateSchema,
  submittedAt: z.iso.datetime(),
  updatedAt: z.iso.datetime()
});

export const CourseJobListSchema = z
  .object({ jobs: z.array(CourseJobSchema) })
  .meta({ id: 'CourseJobList' });
export type CourseJobList = z.infer<typeof CourseJobListSchema>;

/** Paths below the dataset folder. */
export const CourseDatasetListQuerySchema = z.object({
  path: TierPathSchema.default('')
});
export const CourseDatasetContentQuerySchema = z.object({
  path: TierItemPathSchema
});

export const CourseDatasetListSchema = z
  .object({
    tier: z.string(),
    /** The folder, relative to the dataset root. */
    path: z.string(),
    entries: z.array(FileEntrySchema)
  })
  .meta({ id: 'CourseDatasetList' });
export type CourseDatasetList = z.infer<typeof CourseDatasetListSchema>;
