/**
 * A run's lifecycle as a table: (state, step) → next state. Every change of a run's
 * state goes through `nextRunState`; the repository applies it only when the run is
 * still in the state the step started from.
 */
import type { TriggerRunState } from '../contract';

export type RunStep =
  /** The limits and the pause allow it: the action is claimed. */
  | 'claim'
  /** The action submitted a job, which has not ended. */
  | 'submitted'
  /** The action finished (a copy, a webhook, a roll). */
  | 'finished'
  /** The action was refused or failed for good. */
  | 'failed'
  /** The action failed for a passing reason (a cluster that does not answer): try again. */
  | 'retry'
  /** The submitted job ended COMPLETED. */
  | 'jobCompleted'
  /** The submitted job ended in another state. */
  | 'jobFailed';

const TRANSITIONS: Readonly<
  Record<TriggerRunState, Partial<Record<RunStep, TriggerRunState>>>
> = {
  waiting: { claim: 'starting' },
  starting: {
    submitted: 'running',
    finished: 'done',
    failed: 'failed',
    retry: 'starting'
  },
  running: { jobCompleted: 'done', jobFailed: 'failed' },
  done: {},
  failed: {}
};

/** The state after `step`; throws for a step the state does not take. */
export function nextRunState(
  state: TriggerRunState,
  step: RunStep
): TriggerRunState {
  const next = TRANSITIONS[state][step];
  if (next === undefined) {
    throw new Error(`a ${state} run cannot take the step ${step}`);
  }
  return next;
}

/** States whose action is still going: they count against `maxConcurrent`. */
export const GOING_STATES: readonly TriggerRunState[] = ['starting', 'running'];
