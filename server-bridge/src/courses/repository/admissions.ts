/**
 * The `course_job_admissions` table (migration 21): course job submits admitted and not
 * yet stored, per course and student, so that every replica counts them.
 */
import { z } from 'zod';
import type { Store } from '../../store';

const CountRowSchema = z.object({ n: z.number().int() });

export class CourseAdmissionTable {
  constructor(private readonly store: Store) {}

  add(id: string, course: string, student: string, expiresAt: string): void {
    this.store
      .statement(
        'INSERT INTO course_job_admissions (id, course, student, expires_at) VALUES (?, ?, ?, ?)'
      )
      .run(id, course, student, expiresAt);
  }

  /** Admissions of the student in the course still held at `now`. */
  count(course: string, student: string, now: string): number {
    return CountRowSchema.parse(
      this.store
        .statement(
          'SELECT COUNT(*) AS n FROM course_job_admissions WHERE course = ? AND student = ? AND expires_at > ?'
        )
        .get(course, student, now)
    ).n;
  }

  remove(id: string): void {
    this.store
      .statement('DELETE FROM course_job_admissions WHERE id = ?')
      .run(id);
  }

  /** Forgets admissions of submits whose replica died before it could release them. */
  dropExpired(now: string): void {
    this.store
      .statement('DELETE FROM course_job_admissions WHERE expires_at <= ?')
      .run(now);
  }
}
