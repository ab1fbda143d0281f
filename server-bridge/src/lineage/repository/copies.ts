/**
 * The lineage feature's `stage_out_copies` table: each file a job's stage-out copied to
 * a tier, so that a stage-out resumed after a restart finishes the copy instead of
 * starting it again or taking it as done.
 */
import { z } from 'zod';
import { ObjectVersionSchema, type ObjectVersion } from '../../contract';
import type { ICopyJournal } from '../../storage/staging';
import type { Store } from '../../store';

const RowSchema = z.object({
  source_size: z.number().int().nullable(),
  version: z.string()
});

export class StageOutCopyTable {
  constructor(private readonly store: Store) {}

  /** The journal of one output (`output`: its reservation id) of job `jobId`. */
  journal(jobId: string, output: string): ICopyJournal {
    const db = this.store.db;
    return {
      copied: path => {
        const row = db
          .prepare(
            'SELECT source_size, version FROM stage_out_copies WHERE job_id = ? AND output = ? AND path = ?'
          )
          .get(jobId, output, path);
        if (row === undefined) {
          return undefined;
        }
        const r = RowSchema.parse(row);
        return {
          sourceSize: r.source_size,
          version: ObjectVersionSchema.parse(JSON.parse(r.version))
        };
      },
      record: (path, sourceSize, version: ObjectVersion) => {
        db.prepare(
          `INSERT INTO stage_out_copies (job_id, output, path, source_size, version)
           VALUES (?, ?, ?, ?, ?) ON CONFLICT (job_id, output, path) DO UPDATE SET
             source_size = excluded.source_size, version = excluded.version`
        ).run(jobId, output, path, sourceSize, JSON.stringify(version));
      }
    };
  }

  /** Forgets the job's copies (its stage-out has ended). */
  forget(jobId: string): void {
    this.store.db
      .prepare('DELETE FROM stage_out_copies WHERE job_id = ?')
      .run(jobId);
  }
}
