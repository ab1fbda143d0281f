/**
 * What every trigger source does: from the trigger and its cursor, find the events that
 * happened since (a bounded amount per scan) and the cursor after them. A source never
 * records anything itself: the runner stores the events and the cursor in one
 * transaction.
 */
import type { IAuthUser } from '../../auth/decide';
import type { TriggerEvent, TriggerSource } from '../../contract';
import { byKind, type ByKind, type IHandlerFamily } from '../by-kind';

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

interface ISourceFamily extends IHandlerFamily {
  member: TriggerSource;
  handler: ITriggerSource<this['member']>;
}

/** One source per kind. */
export type TriggerSources = ByKind<TriggerSource, ISourceFamily>;

/** The source of a trigger's kind. */
export const sourceOf = (
  sources: TriggerSources,
  source: TriggerSource
): ITriggerSource => byKind<TriggerSource, ISourceFamily>(sources, source);
