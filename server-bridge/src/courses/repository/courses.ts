/**
 * The `courses` and `course_keys` tables (migration 7; the assistant's switch, migration
 * 19) and `course_jobs` (migration 8).
 */
import { z } from 'zod';
import { CourseAssistantSchema, type CourseAssistant } from '../../contract';
import type { Store } from '../../store';
import { camelized } from '../../store/rows';

/** The shared dataset: a folder of a tier, read as `owner` (the instructor who set it). */
export interface IDatasetShare {
  tier: string;
  path: string;
  owner: string;
  /** The owner's hub groups when they shared it (their access to `{group}` tiers). */
  ownerGroups: string[];
}

export interface IEndpointShare {
  endpointId: string;
  tokenBudget: number;
  requestsPerMinute: number | null;
}

/** The course's job profile: an admin profile, a reservation and per-student limits. */
export interface IJobProfileShare {
  baseProfile: string;
  reservation: string | null;
  maxActiveJobs: number | null;
  gpuHoursBudget: number | null;
  /** Offered to the class as a cluster kernel. */
  kernel: boolean;
}

export interface ICourseRecord {
  name: string;
  title: string | null;
  endpoint: IEndpointShare | null;
  dataset: IDatasetShare | null;
  jobProfile: IJobProfileShare | null;
  /** Completion and chat on the course endpoint in the editor. */
  assistant: CourseAssistant;
  updatedBy: string;
  updatedAt: string;
}

export interface ICourseKeyRecord {
  keyId: string;
  course: string;
  student: string;
  endpointId: string;
  createdAt: string;
}

const SettingsSchema = z.object({
  endpoint: z
    .object({
      endpointId: z.string(),
      tokenBudget: z.number().int(),
      requestsPerMinute: z.number().int().nullable()
    })
    .nullable()
    .default(null),
  dataset: z
    .object({
      tier: z.string(),
      path: z.string(),
      owner: z.string(),
      ownerGroups: z.array(z.string())
    })
    .nullable()
    .default(null),
  jobProfile: z
    .object({
      baseProfile: z.string(),
      reservation: z.string().nullable(),
      maxActiveJobs: z.number().int().nullable(),
      gpuHoursBudget: z.number().nullable(),
      kernel: z.boolean().default(false)
    })
    .nullable()
    .default(null)
});

const CourseRowSchema = z.object({
  name: z.string(),
  title: z.string().nullable(),
  settings: z.string(),
  assistant: z.string(),
  updated_by: z.string(),
  updated_at: z.string()
});

const KeyRowSchema = z.object({
  key_id: z.string(),
  course: z.string(),
  student: z.string(),
  endpoint_id: z.string(),
  created_at: z.string()
});

const JobIdRowSchema = z.object({ job_id: z.string() });
const StudentJobIdRowSchema = JobIdRowSchema.extend({ student: z.string() });

function keyOf(row: unknown): ICourseKeyRecord {
  return camelized(KeyRowSchema.parse(row));
}

export class CourseTable {
  constructor(private readonly store: Store) {}

  get(name: string): ICourseRecord | undefined {
    const row = this.store.db
      .prepare('SELECT * FROM courses WHERE name = ?')
      .get(name);
    if (row === undefined) {
      return undefined;
    }
    const r = CourseRowSchema.parse(row);
    const settings = SettingsSchema.parse(JSON.parse(r.settings));
    return {
      name: r.name,
      title: r.title,
      endpoint: settings.endpoint,
      dataset: settings.dataset,
      jobProfile: settings.jobProfile,
      assistant: CourseAssistantSchema.parse(JSON.parse(r.assistant)),
      updatedBy: r.updated_by,
      updatedAt: r.updated_at
    };
  }

  /** The names of every course with settings. */
  names(): Set<string> {
    const rows = this.store.db.prepare('SELECT name FROM courses').all();
    return new Set(rows.map(r => z.object({ name: z.string() }).parse(r).name));
  }

  put(course: ICourseRecord): void {
    this.store.db
      .prepare(
        `INSERT INTO courses (name, title, settings, assistant, updated_by, updated_at)
         VALUES (@name, @title, @settings, @assistant, @updated_by, @updated_at)
         ON CONFLICT (name) DO UPDATE SET title = excluded.title,
           settings = excluded.settings, assistant = excluded.assistant,
           updated_by = excluded.updated_by, updated_at = excluded.updated_at`
      )
      .run({
        name: course.name,
        title: course.title,
        settings: JSON.stringify({
          endpoint: course.endpoint,
          dataset: course.dataset,
          jobProfile: course.jobProfile
        }),
        assistant: JSON.stringify(course.assistant),
        updated_by: course.updatedBy,
        updated_at: course.updatedAt
      });
  }

  addKey(key: ICourseKeyRecord): void {
    this.store.db
      .prepare(
        `INSERT INTO course_keys (key_id, course, student, endpoint_id, created_at)
         VALUES (?, ?, ?, ?, ?)`
      )
      .run(key.keyId, key.course, key.student, key.endpointId, key.createdAt);
  }

  /** The course's keys on `endpointId` (all students, revoked ones too), oldest first. */
  keys(course: string, endpointId: string): ICourseKeyRecord[] {
    return this.store.db
      .prepare(
        'SELECT * FROM course_keys WHERE course = ? AND endpoint_id = ? ORDER BY created_at, key_id'
      )
      .all(course, endpointId)
      .map(keyOf);
  }

  /** Remembers that `jobId` was submitted with the course's job profile. */
  addJob(jobId: string, course: string, student: string, at: string): void {
    this.store.db
      .prepare(
        'INSERT INTO course_jobs (job_id, course, student, created_at) VALUES (?, ?, ?, ?)'
      )
      .run(jobId, course, student, at);
  }

  /** The ids of the student's course jobs. */
  studentJobIds(course: string, student: string): string[] {
    return this.store.db
      .prepare(
        'SELECT job_id FROM course_jobs WHERE course = ? AND student = ? ORDER BY created_at, job_id'
      )
      .all(course, student)
      .map(row => JobIdRowSchema.parse(row).job_id);
  }

  /** The ids of the course's jobs with their students. */
  jobIds(course: string): { student: string; jobId: string }[] {
    return this.store.db
      .prepare('SELECT student, job_id FROM course_jobs WHERE course = ?')
      .all(course)
      .map(row => {
        const r = StudentJobIdRowSchema.parse(row);
        return { student: r.student, jobId: r.job_id };
      });
  }

  /** Students with course jobs. */
  jobStudents(course: string): string[] {
    return this.store.db
      .prepare('SELECT DISTINCT student FROM course_jobs WHERE course = ?')
      .all(course)
      .map(r => z.object({ student: z.string() }).parse(r).student);
  }
}
