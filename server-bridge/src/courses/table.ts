/** The `courses` and `course_keys` tables (migration 7). */
import { z } from 'zod';
import type { Store } from '../store';

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

export interface ICourseRecord {
  name: string;
  title: string | null;
  endpoint: IEndpointShare | null;
  dataset: IDatasetShare | null;
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
    .default(null)
});

const CourseRowSchema = z.object({
  name: z.string(),
  title: z.string().nullable(),
  settings: z.string(),
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

function keyOf(row: unknown): ICourseKeyRecord {
  const r = KeyRowSchema.parse(row);
  return {
    keyId: r.key_id,
    course: r.course,
    student: r.student,
    endpointId: r.endpoint_id,
    createdAt: r.created_at
  };
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
        `INSERT INTO courses (name, title, settings, updated_by, updated_at)
         VALUES (@name, @title, @settings, @updated_by, @updated_at)
         ON CONFLICT (name) DO UPDATE SET title = excluded.title,
           settings = excluded.settings, updated_by = excluded.updated_by,
           updated_at = excluded.updated_at`
      )
      .run({
        name: course.name,
        title: course.title,
        settings: JSON.stringify({
          endpoint: course.endpoint,
          dataset: course.dataset
        }),
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
}
