/**
 * `schedule`: due minutes of a cron expression (UTC). The cursor is the last minute that
 * fired; a scan fires the latest due minute after it, so the minutes missed while the
 * bridge was down fire once, not once each.
 */
import { z } from 'zod';
import type { IAuthUser } from '../../auth/decide';
import type { TriggerSource } from '../../contract';
import { latestDue, parseCron } from '../cron';
import type { IScan, IScanContext, ITriggerSource } from './source';

type ScheduleRule = Extract<TriggerSource, { kind: 'schedule' }>;

const CursorSchema = z.object({ last: z.string().nullable() });

export class ScheduleSource implements ITriggerSource<ScheduleRule> {
  readonly intervalMs: number;

  constructor(options: { intervalMs?: number } = {}) {
    this.intervalMs = options.intervalMs ?? 10_000;
  }

  /** The minute due at creation (if any) is the baseline; 400 for an expression that is not valid. */
  async baseline(
    _owner: IAuthUser,
    source: ScheduleRule,
    now: Date
  ): Promise<unknown> {
    return {
      last: latestDue(parseCron(source.cron), now)?.toISOString() ?? null
    };
  }

  async scan(ctx: IScanContext<ScheduleRule>): Promise<IScan> {
    const parsed = CursorSchema.safeParse(ctx.cursor);
    const last = parsed.success ? parsed.data.last : null;
    const due = latestDue(parseCron(ctx.source.cron), ctx.now);
    if (due === null || (last !== null && due.getTime() <= Date.parse(last))) {
      return { events: [], cursor: { last }, truncated: false };
    }
    const at = due.toISOString();
    return {
      events: [{ key: `schedule:${at}`, event: { kind: 'schedule', due: at } }],
      cursor: { last: at },
      truncated: false
    };
  }
}
