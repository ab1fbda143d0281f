/** The `jobs` table: each job's contract JSON plus what the bridge needs to act on it. */
import { z } from 'zod';
import {
  JobSchema,
  JobSubmitSchema,
  TERMINAL_JOB_STATES,
  type Job,
  type JobState,
  type JobSubmit
} from '../contract';
import type { Store } from '../store';

export interface IJobRecord {
  job: Job;
  /** Absolute path of the working directory on the cluster. */
  workdir: string;
  clusterUser: string;
  webhookUrl: string | null;
  request: JobSubmit;
}

export interface IJobFilter {
  owner?: string;
  state?: JobState;
  name?: string;
  since?: string;
}

const RowSchema = z.object({
  workdir: z.string(),
  cluster_user: z.string(),
  webhook_url: z.string().nullable(),
  request: z.string(),
  job: z.string()
});

export const isTerminal = (s: JobState): boolean =>
  TERMINAL_JOB_STATES.includes(s);

export class JobTable {
  constructor(private readonly store: Store) {}

  private parse(row: unknown): IJobRecord {
    const r = RowSchema.parse(row);
    return {
      job: JobSchema.parse(JSON.parse(r.job)),
      workdir: r.workdir,
      clusterUser: r.cluster_user,
      webhookUrl: r.webhook_url,
      request: JobSubmitSchema.parse(JSON.parse(r.request))
    };
  }

  insert(rec: IJobRecord): void {
    const j = rec.job;
    this.store.db
      .prepare(
        `INSERT INTO jobs (id, owner, cluster, state, terminal, submitted_at, updated_at,
           resubmitted_from, workdir, cluster_user, webhook_url, request, job)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
      )
      .run(
        j.id,
        j.owner,
        j.cluster,
        j.state,
        isTerminal(j.state) ? 1 : 0,
        j.submittedAt,
        j.updatedAt,
        j.resubmittedFrom,
        rec.workdir,
        rec.clusterUser,
        rec.webhookUrl,
        JSON.stringify(rec.request),
        JSON.stringify(j)
      );
  }

  update(job: Job): void {
    this.updateMany([job]);
  }

  /** Several jobs in one transaction (one commit). */
  updateMany(jobs: readonly Job[]): void {
    if (jobs.length === 0) {
      return;
    }
    const db = this.store.db;
    const statement = db.prepare(
      'UPDATE jobs SET state = ?, terminal = ?, updated_at = ?, job = ? WHERE id = ?'
    );
    db.transaction(() => {
      for (const job of jobs) {
        statement.run(
          job.state,
          isTerminal(job.state) ? 1 : 0,
          job.updatedAt,
          JSON.stringify(job),
          job.id
        );
      }
    })();
  }

  get(id: string): IJobRecord | undefined {
    const row = this.store.db
      .prepare('SELECT * FROM jobs WHERE id = ?')
      .get(id);
    return row === undefined ? undefined : this.parse(row);
  }

  /** Newest first. */
  list(filter: IJobFilter, limit = 500): IJobRecord[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.owner !== undefined) {
      where.push('owner = ?');
      args.push(filter.owner);
    }
    if (filter.state !== undefined) {
      where.push('state = ?');
      args.push(filter.state);
    }
    if (filter.since !== undefined) {
      where.push('submitted_at >= ?');
      args.push(filter.since);
    }
    const sql = `SELECT * FROM jobs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY submitted_at DESC, id LIMIT ?`;
    const rows = this.store.db.prepare(sql).all(...args, limit);
    const records = rows.map(r => this.parse(r));
    const name = filter.name?.toLowerCase();
    return name === undefined
      ? records
      : records.filter(r => r.job.name.toLowerCase().includes(name));
  }

  /** Jobs of the cluster that may still change. */
  active(cluster: string): IJobRecord[] {
    return this.store.db
      .prepare('SELECT * FROM jobs WHERE cluster = ? AND terminal = 0')
      .all(cluster)
      .map(r => this.parse(r));
  }

  hasActive(cluster: string): boolean {
    return (
      this.store.db
        .prepare(
          'SELECT 1 FROM jobs WHERE cluster = ? AND terminal = 0 LIMIT 1'
        )
        .get(cluster) !== undefined
    );
  }
}
