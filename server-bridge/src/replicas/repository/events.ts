/** The `events` table: job and kernel changes in the order they were published. */
import { z } from 'zod';
import type { Store } from '../../store';

export interface IStoredEvent {
  /** Increasing: the SSE `id`, and where a reconnecting stream resumes. */
  id: number;
  topic: string;
  /** The user the event concerns. */
  subject: string;
  payload: unknown;
}

const RowSchema = z.object({
  id: z.number().int(),
  topic: z.string(),
  subject: z.string(),
  payload: z.string()
});

const parse = (row: unknown): IStoredEvent => {
  const r = RowSchema.parse(row);
  return { ...r, payload: JSON.parse(r.payload) as unknown };
};

export class EventTable {
  constructor(private readonly store: Store) {}

  insert(topic: string, subject: string, payload: unknown, at: Date): number {
    const result = this.store
      .statement(
        'INSERT INTO events (topic, subject, payload, created_at) VALUES (?, ?, ?, ?)'
      )
      .run(topic, subject, JSON.stringify(payload), at.toISOString());
    return Number(result.lastInsertRowid);
  }

  /** The highest id (0 when empty). */
  lastId(): number {
    const row = this.store
      .statement('SELECT MAX(id) AS id FROM events')
      .get() as { id: number | null };
    return row.id ?? 0;
  }

  /** The lowest and highest ids kept (0 and 0 when empty). */
  bounds(): { oldest: number; newest: number } {
    const row = this.store
      .statement('SELECT MIN(id) AS oldest, MAX(id) AS newest FROM events')
      .get() as { oldest: number | null; newest: number | null };
    return { oldest: row.oldest ?? 0, newest: row.newest ?? 0 };
  }

  /**
   * Events after `id`, oldest first. SQLite commits one writer at a time, so no row with
   * a lower id appears after a higher one was read (PostgreSQL's sequences do not promise
   * that: a tail there must re-read a short window behind its last id).
   */
  after(id: number, limit: number): IStoredEvent[] {
    return this.store
      .statement('SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?')
      .all(id, limit)
      .map(parse);
  }

  /** Events of `topic` after `id` (of `subject` only, when given), oldest first. */
  afterOf(
    id: number,
    topic: string,
    subject: string | undefined,
    limit: number
  ): IStoredEvent[] {
    const rows =
      subject === undefined
        ? this.store
            .statement(
              'SELECT * FROM events WHERE id > ? AND topic = ? ORDER BY id LIMIT ?'
            )
            .all(id, topic, limit)
        : this.store
            .statement(
              'SELECT * FROM events WHERE subject = ? AND id > ? AND topic = ? ORDER BY id LIMIT ?'
            )
            .all(subject, id, topic, limit);
    return rows.map(parse);
  }

  /** Deletes the events published before `before`; returns how many. */
  deleteBefore(before: Date): number {
    return this.store
      .statement('DELETE FROM events WHERE created_at < ?')
      .run(before.toISOString()).changes;
  }
}
