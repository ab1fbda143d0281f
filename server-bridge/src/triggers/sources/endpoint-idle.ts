/**
 * `endpoint.idle`: the owner's endpoint served no request for `idleMinutes`, counted
 * from its last request (by the gateway's usage, to the minute) or, when it had none,
 * from when the trigger was made. Fires once per idle period: the key names the period's
 * start, and a request starts a new one.
 */
import { z } from 'zod';
import type { IAuthUser } from '../../auth/decide';
import type { TriggerSource } from '../../contract';
import type { IScan, IScanContext, ITriggerSource } from './source';

type IdleRule = Extract<TriggerSource, { kind: 'endpoint.idle' }>;

const CursorSchema = z.object({
  /** When the trigger was made: the idle period starts there without requests. */
  since: z.string()
});

export class EndpointIdleSource implements ITriggerSource<IdleRule> {
  readonly intervalMs: number;

  constructor(
    private readonly lastRequestAt: (endpointId: string) => Date | null,
    options: { intervalMs?: number } = {}
  ) {
    this.intervalMs = options.intervalMs ?? 30_000;
  }

  async baseline(
    _owner: IAuthUser,
    _source: IdleRule,
    now: Date
  ): Promise<unknown> {
    return { since: now.toISOString() };
  }

  async scan(ctx: IScanContext<IdleRule>): Promise<IScan> {
    const parsed = CursorSchema.safeParse(ctx.cursor);
    const cursor = parsed.success
      ? parsed.data
      : { since: ctx.now.toISOString() };
    const { endpoint, idleMinutes } = ctx.source;
    const last = this.lastRequestAt(endpoint);
    const since = Date.parse(cursor.since);
    const start =
      last === null || last.getTime() < since ? since : last.getTime();
    if (ctx.now.getTime() - start < idleMinutes * 60_000) {
      return { events: [], cursor, truncated: false };
    }
    const period = new Date(start).toISOString();
    return {
      events: [
        {
          key: `idle:${endpoint}:${period}`,
          event: { kind: 'endpoint.idle', endpoint }
        }
      ],
      cursor,
      truncated: false
    };
  }
}
