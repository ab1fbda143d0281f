/**
 * What every trigger action does: carry out one run as the owner and say how it went.
 * Throwing a refusal (a 4xx `DomainError`) fails the run; any other error is taken as
 * passing and the run is tried again later.
 */
import type { IAuthUser } from '../../auth/decide';
import type { TriggerAction } from '../../contract';
import { byKind, type ByKind, type IHandlerFamily } from '../by-kind';
import type { IRunRecord, RunResult } from '../repository/runs';
import type { ITriggerRecord } from '../repository/triggers';

export interface IActionContext {
  trigger: ITriggerRecord;
  /** The run, claimed (`starting`); `attempts` > 1 after a restart or a retry. */
  run: IRunRecord;
  owner: IAuthUser;
}

export type ActionOutcome =
  /** A job was submitted: the run goes on until it ends. */
  | { step: 'submitted'; result: RunResult }
  | { step: 'finished'; result: RunResult };

export interface ITriggerAction<A extends TriggerAction = TriggerAction> {
  perform(ctx: IActionContext, action: A): Promise<ActionOutcome>;
}

interface IActionFamily extends IHandlerFamily {
  member: TriggerAction;
  handler: ITriggerAction<this['member']>;
}

/** One action per kind. */
export type TriggerActions = ByKind<TriggerAction, IActionFamily>;

/** The action of a trigger's kind. */
export const actionOf = (
  actions: TriggerActions,
  action: TriggerAction
): ITriggerAction => byKind<TriggerAction, IActionFamily>(actions, action);
