/**
 * `job.ended`: the owner's jobs that ended in one of the trigger's states, read from the
 * jobs table in the order they were last updated. A job with declared outputs counts
 * once its stage-out has finished (no output `pending`), so that a job started by the
 * event can read them; the stage-out's own update brings it past the cursor again.
 */
import { z } from 'zod';
import type { IAuthUser } from '../../auth/decide';
import type { Job, TriggerSource } from '../../contract';
import type { JobTable } from '../../jobs/repository/jobs';
import type {
  IFoundEvent,
  IScan,
  IScanContext,
  ITriggerSource
} from './source';

type EndedRule = Extract<TriggerSource, { kind: 'job.ended' }>;

const CursorSchema = z.object({ at: z.string(), id: z.string() });

/** Whether the job's outputs are all where they go (or failed to get there). */
export function stagedOut(job: Job): boolean {
  return (job.outputs ?? []).every(o => o.stageOut !== 'pending');
}

function matches(source: EndedRule, job: Job): boolean {
  return (
    source.states.includes(job.state) &&
    (source.trigger === undefined || job.trigger?.id === source.trigger) &&
    (source.jobName === undefined || job.name === source.jobName)
  );
}

export class JobEndedSource implements ITriggerSource<EndedRule> {
  readonly intervalMs: number;
  private readonly batch: number;

  constructor(
    private readonly jobs: JobTable,
    options: { intervalMs?: number; batch?: number } = {}
  ) {
    // A query of the store: every tick (a job's end pokes one).
    this.intervalMs = options.intervalMs ?? 0;
    this.batch = options.batch ?? 200;
  }

  async baseline(
    _owner: IAuthUser,
    _source: EndedRule,
    now: Date
  ): Promise<unknown> {
    return { at: now.toISOString(), id: '' };
  }

  async scan(ctx: IScanContext<EndedRule>): Promise<IScan> {
    const parsed = CursorSchema.safeParse(ctx.cursor);
    const after = parsed.success
      ? parsed.data
      : { at: ctx.now.toISOString(), id: '' };
    const ended = this.jobs.endedAfter(ctx.owner.name, after, this.batch);
    const events: IFoundEvent[] = ended
      .map(r => r.job)
      .filter(job => stagedOut(job) && matches(ctx.source, job))
      .map(job => ({
        key: `job:${job.id}`,
        event: { kind: 'job.ended', jobId: job.id, jobState: job.state }
      }));
    const last = ended.at(-1)?.job;
    return {
      events,
      cursor: last === undefined ? after : { at: last.updatedAt, id: last.id },
      truncated: ended.length === this.batch
    };
  }
}
