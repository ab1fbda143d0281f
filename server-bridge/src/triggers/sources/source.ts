/**
 * What every trigger source does: from the trigger and its cursor, find the events that
 * happened since (a bounded amount per scan) and the cursor after them. A source never
 * records anything itself: the runner stores the events and the cursor in one
 * transaction.
 */
import type { IAuthUser } from '../../auth/decide';
import type { TriggerEvent, TriggerSource } from '../../contract';

export interface IFoundEvent {
  /** The idempotency key: the same event always has the same key. */
  key: string;
  event: TriggerEvent;
}

export interface IScan {
  events: IFoundEvent[];
  cursor: unknown;
  /** The scan stopped at its bound; the next scan goes on from the cursor. */
  truncated: boolean;
}

export interface IScanContext<S extends TriggerSource = TriggerSource> {
  source: S;
  /** The owner, as the source acts. */
  owner: IAuthUser;
  cursor: unknown;
  now: Date;
}

export interface ITriggerSource<S extends TriggerSource = TriggerSource> {
  /** How often the runner scans a trigger of this kind. */
  readonly intervalMs: number;
  /**
   * The cursor of a new trigger: what is there already does not fire. Checks what can be
   * checked up front (a prefix the owner cannot read is refused here).
   */
  baseline(owner: IAuthUser, source: S, now: Date): Promise<unknown>;
  scan(ctx: IScanContext<S>): Promise<IScan>;
}

/** One source per kind. */
export type TriggerSources = {
  [K in TriggerSource['kind']]: ITriggerSource<
    Extract<TriggerSource, { kind: K }>
  >;
};

/** The source of a trigger's kind. */
export function sourceOf(
  sources: TriggerSources,
  source: TriggerSource
): ITriggerSource {
  return sources[source.kind] as ITriggerSource;
}
