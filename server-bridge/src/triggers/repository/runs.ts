/**
 * The `trigger_runs` table (migration 13): one row per event a trigger saw, unique per
 * (trigger, key), with its state, the job id reserved before a submit and what it did.
 */
import { z } from 'zod';
import {
  TriggerEventSchema,
  TriggerRunSchema,
  TriggerRunStateSchema,
  type TriggerEvent,
  type TriggerRun,
  type TriggerRunState
} from '../../contract';
import type { Store } from '../../store';
import { camelized } from '../../store/rows';
import { nextRunState, type RunStep } from '../run-states';

const ResultSchema = TriggerRunSchema.shape.result;
export type RunResult = NonNullable<TriggerRun['result']>;

const RunRowSchema = z.object({
  id: z.string(),
  trigger_id: z.string(),
  key: z.string(),
  event: z.string(),
  state: TriggerRunStateSchema,
  fired_at: z.string(),
  claimed_at: z.string().nullable(),
  attempts: z.number().int(),
  retry_at: z.string().nullable(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  job_id: z.string().nullable(),
  result: z.string().nullable(),
  reason: z.string().nullable()
});

export interface IRunRecord {
  id: string;
  triggerId: string;
  key: string;
  event: TriggerEvent;
  state: TriggerRunState;
  firedAt: string;
  claimedAt: string | null;
  attempts: number;
  retryAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  /** The job id reserved before the submit (submit actions). */
  jobId: string | null;
  result: RunResult | null;
  reason: string | null;
}

function recordOf(row: unknown): IRunRecord {
  const r = camelized(RunRowSchema.parse(row));
  return {
    ...r,
    event: TriggerEventSchema.parse(JSON.parse(r.event)),
    result: r.result === null ? null : ResultSchema.parse(JSON.parse(r.result))
  };
}

/** The run as the contract shows it. */
export function runOf(r: IRunRecord): TriggerRun {
  return {
    id: r.id,
    trigger: r.triggerId,
    key: r.key,
    event: r.event,
    state: r.state,
    firedAt: r.firedAt,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    result: r.result,
    reason: r.reason
  };
}

/** An event found by a source, as it is recorded. */
export interface INewRun {
  id: string;
  key: string;
  event: TriggerEvent;
  reason: string | null;
}

/** What a step changes besides the state. */
export interface IRunChange {
  claimedAt?: string;
  attempts?: number;
  retryAt?: string | null;
  startedAt?: string;
  endedAt?: string;
  jobId?: string;
  result?: RunResult;
  reason?: string | null;
}

const COLUMNS: Record<keyof IRunChange, string> = {
  claimedAt: 'claimed_at',
  attempts: 'attempts',
  retryAt: 'retry_at',
  startedAt: 'started_at',
  endedAt: 'ended_at',
  jobId: 'job_id',
  result: 'result',
  reason: 'reason'
};

const KeyRowSchema = z.object({ key: z.string() });
const CountRowSchema = z.object({ n: z.number().int() });
const StartedRowSchema = z.object({ started_at: z.string() });

export class RunTable {
  constructor(private readonly store: Store) {}

  /**
   * Records the events as waiting runs and moves the trigger's cursor, in one
   * transaction: an event already recorded (same key) is skipped. Answers how many runs
   * were recorded.
   */
  record(
    triggerId: string,
    runs: readonly INewRun[],
    firedAt: string,
    moveCursor: () => void
  ): number {
    const db = this.store.db;
    const insert = db.prepare(
      `INSERT INTO trigger_runs (id, trigger_id, key, event, state, fired_at, reason)
       VALUES (?, ?, ?, ?, 'waiting', ?, ?)
       ON CONFLICT (trigger_id, key) DO NOTHING`
    );
    return db.transaction(() => {
      let added = 0;
      for (const r of runs) {
        added += insert.run(
          r.id,
          triggerId,
          r.key,
          JSON.stringify(r.event),
          firedAt,
          r.reason
        ).changes;
      }
      moveCursor();
      return added;
    })();
  }

  get(id: string): IRunRecord | undefined {
    const row = this.store.db
      .prepare('SELECT * FROM trigger_runs WHERE id = ?')
      .get(id);
    return row === undefined ? undefined : recordOf(row);
  }

  /** The trigger's runs, newest first; `before`: only runs fired before that run. */
  list(triggerId: string, limit: number, before?: string): IRunRecord[] {
    const rows =
      before === undefined
        ? this.store.db
            .prepare(
              'SELECT * FROM trigger_runs WHERE trigger_id = ? ORDER BY seq DESC LIMIT ?'
            )
            .all(triggerId, limit)
        : this.store.db
            .prepare(
              `SELECT * FROM trigger_runs WHERE trigger_id = ?
                 AND seq < (SELECT seq FROM trigger_runs WHERE id = ? AND trigger_id = ?)
               ORDER BY seq DESC LIMIT ?`
            )
            .all(triggerId, before, triggerId, limit);
    return rows.map(recordOf);
  }

  /** Runs in `state` (every trigger, or one), oldest first. */
  inState(state: TriggerRunState, triggerId?: string): IRunRecord[] {
    const rows =
      triggerId === undefined
        ? this.store.db
            .prepare('SELECT * FROM trigger_runs WHERE state = ? ORDER BY seq')
            .all(state)
        : this.store.db
            .prepare(
              'SELECT * FROM trigger_runs WHERE state = ? AND trigger_id = ? ORDER BY seq'
            )
            .all(state, triggerId);
    return rows.map(recordOf);
  }

  /** Which of these keys the trigger has recorded already. */
  knownKeys(triggerId: string, keys: readonly string[]): Set<string> {
    return new Set(
      this.store.db
        .prepare(
          `SELECT key FROM trigger_runs WHERE trigger_id = ?
             AND key IN (SELECT value FROM json_each(?))`
        )
        .all(triggerId, JSON.stringify(keys))
        .map(r => KeyRowSchema.parse(r).key)
    );
  }

  /** Runs of the trigger whose action is still going (starting or running). */
  going(triggerId: string): number {
    return CountRowSchema.parse(
      this.store.db
        .prepare(
          "SELECT COUNT(*) AS n FROM trigger_runs WHERE trigger_id = ? AND state IN ('starting', 'running')"
        )
        .get(triggerId)
    ).n;
  }

  /** When the trigger's runs started since `since` (ISO), oldest first. */
  startedSince(triggerId: string, since: string): string[] {
    return this.store.db
      .prepare(
        'SELECT started_at FROM trigger_runs WHERE trigger_id = ? AND started_at > ? ORDER BY started_at'
      )
      .all(triggerId, since)
      .map(r => StartedRowSchema.parse(r).started_at);
  }

  /**
   * Applies `step` to the run if it is still in `from`; false when another step came
   * first (the row changed meanwhile, or the trigger and its runs were deleted).
   */
  step(
    id: string,
    from: TriggerRunState,
    step: RunStep,
    change: IRunChange = {}
  ): boolean {
    const to = nextRunState(from, step);
    const fields = Object.entries(change) as [keyof IRunChange, unknown][];
    const sets = ['state = ?', ...fields.map(([k]) => `${COLUMNS[k]} = ?`)];
    const values = fields.map(([k, v]) =>
      k === 'result' ? JSON.stringify(v) : (v as string | number | null)
    );
    return (
      this.store.db
        .prepare(
          `UPDATE trigger_runs SET ${sets.join(', ')} WHERE id = ? AND state = ?`
        )
        .run(to, ...values, id, from).changes === 1
    );
  }

  /** Sets why a waiting run waits (or null). */
  setReason(id: string, reason: string | null): void {
    this.store.db
      .prepare(
        "UPDATE trigger_runs SET reason = ? WHERE id = ? AND state = 'waiting'"
      )
      .run(reason, id);
  }
}
