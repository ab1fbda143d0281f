/** The `jobs` table: each job's contract JSON plus what the bridge needs to act on it. */
import { z } from 'zod';
import {
  JobSchema,
  JobSubmitSchema,
  TERMINAL_JOB_STATES,
  type Job,
  type JobState,
  type JobSubmit
} from '../../contract';
import type { Store } from '../../store';
import { whereDefined } from '../../store/rows';

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

const CountRowSchema = z.object({ state: z.string(), n: z.number().int() });
const JobRowSchema = z.object({ job: z.string() });
const OwnerRowSchema = z.object({ owner: z.string() });

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

  /** The jobs of these ids that exist, newest first. */
  byIds(ids: readonly string[]): IJobRecord[] {
    return this.store.db
      .prepare(
        `SELECT * FROM jobs WHERE id IN (SELECT value FROM json_each(?))
         ORDER BY submitted_at DESC, id`
      )
      .all(JSON.stringify(ids))
      .map(r => this.parse(r));
  }

  /** Newest first. */
  list(filter: IJobFilter, limit = 500): IJobRecord[] {
    const where = whereDefined([
      ['owner = ?', filter.owner],
      ['state = ?', filter.state],
      ['submitted_at >= ?', filter.since]
    ]);
    const rows = this.store.db
      .prepare(
        `SELECT * FROM jobs${where.sql} ORDER BY submitted_at DESC, id LIMIT ?`
      )
      .all(...where.args, limit);
    const records = rows.map(r => this.parse(r));
    const name = filter.name?.toLowerCase();
    return name === undefined
      ? records
      : records.filter(r => r.job.name.toLowerCase().includes(name));
  }

  /** How many jobs are in each state (states without jobs left out). */
  countByState(
    filter: Pick<IJobFilter, 'owner' | 'since'>
  ): { state: string; n: number }[] {
    const where = whereDefined([
      ['owner = ?', filter.owner],
      ['submitted_at >= ?', filter.since]
    ]);
    return this.store.db
      .prepare(
        `SELECT state, COUNT(*) AS n FROM jobs${where.sql} GROUP BY state`
      )
      .all(...where.args)
      .map(r => CountRowSchema.parse(r));
  }

  /** Every job submitted at or before `until` (ISO). */
  submittedUntil(until: string): Job[] {
    return this.store.db
      .prepare('SELECT job FROM jobs WHERE submitted_at <= ?')
      .all(until)
      .map(r => JobSchema.parse(JSON.parse(JobRowSchema.parse(r).job)));
  }

  /** Everyone who owns a job. */
  owners(): string[] {
    return this.store.db
      .prepare('SELECT DISTINCT owner FROM jobs')
      .all()
      .map(r => OwnerRowSchema.parse(r).owner);
  }

  /** Jobs of the cluster that may still change. */
  active(cluster: string): IJobRecord[] {
    return this.store.db
      .prepare('SELECT * FROM jobs WHERE cluster = ? AND terminal = 0')
      .all(cluster)
      .map(r => this.parse(r));
  }

  /** Ended jobs with an output whose stage-out has not run. */
  endedAwaitingStageOut(): IJobRecord[] {
    return this.store.db
      .prepare(
        `SELECT * FROM jobs WHERE terminal = 1 AND EXISTS (
           SELECT 1 FROM json_each(job, '$.outputs')
           WHERE json_extract(value, '$.stageOut') = 'pending')`
      )
      .all()
      .map(r => this.parse(r));
  }

  /**
   * The owner's ended jobs last updated after `after` (updated_at, then id), in that
   * order: a job shows up again when its stage-out updates it.
   */
  endedAfter(
    owner: string,
    after: { at: string; id: string },
    limit: number
  ): IJobRecord[] {
    return this.store.db
      .prepare(
        `SELECT * FROM jobs WHERE owner = ? AND terminal = 1
           AND (updated_at > ? OR (updated_at = ? AND id > ?))
         ORDER BY updated_at, id LIMIT ?`
      )
      .all(owner, after.at, after.at, after.id, limit)
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
