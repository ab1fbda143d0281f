import type {
  TriggerEvent,
  TriggerRun,
  TriggerRunState
} from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';
import { useTranslator } from '../ui/translator';
import { TriggerSummary } from './summary';

/** What a run links to: its job, the objects it wrote and their lineage. */
export interface IRunActions {
  onOpenJob: (jobId: string) => void;
  /** Shows a written object (`archive:results/42/model.gguf`) in its tier's file browser. */
  onOpenObject: (uri: string) => void;
  onShowLineage: (uri: string) => void;
}

/** The state of a run as a badge in the job states' colours. */
export function RunStateBadge(props: {
  state: TriggerRunState;
  reason?: string | null;
}): JSX.Element {
  return (
    <span
      className={`jp-hpc-JobState jp-hpc-RunState ${TriggerSummary.runStateClass(props.state)}`}
      title={props.reason ?? undefined}
    >
      {props.state}
    </span>
  );
}

/** What fired a run, in a few words. */
export function eventLabel(
  event: TriggerEvent,
  trans: TranslationBundle
): string {
  switch (event.kind) {
    case 'object.created':
      return event.uri ?? trans.__('a new file');
    case 'job.ended':
      return trans.__('job %1 %2', event.jobId ?? '?', event.jobState ?? '');
    case 'schedule':
      return event.due
        ? trans.__('due %1', new Date(event.due).toLocaleString())
        : trans.__('the schedule');
    case 'endpoint.idle':
      return trans.__('endpoint %1 idle', event.endpoint ?? '');
  }
}

/** Runs, newest first: state, when, what fired them, their job and objects. */
export function TriggerRunList(props: {
  runs: readonly TriggerRun[];
  actions: IRunActions;
  /** The list's accessible name. */
  label: string;
}): JSX.Element {
  const trans = useTranslator();
  const { actions } = props;
  return (
    <ul className="jp-hpc-RunList" aria-label={props.label}>
      {props.runs.map(run => (
        <li
          key={run.id}
          className="jp-hpc-Run"
          data-testid="hpc-trigger-run"
          data-run-id={run.id}
          aria-label={trans.__('Run %1', run.id)}
        >
          <div className="jp-hpc-Run-header">
            <RunStateBadge state={run.state} reason={run.reason} />
            <time className="jp-hpc-Run-time" dateTime={run.firedAt}>
              {new Date(run.firedAt).toLocaleString()}
            </time>
            {run.result?.jobId && (
              <button
                type="button"
                className="jp-hpc-LinkButton"
                data-testid="hpc-run-job"
                aria-label={trans.__('Open job %1', run.result.jobId)}
                onClick={() => actions.onOpenJob(run.result!.jobId!)}
              >
                {trans.__('job %1', run.result.jobId)}
              </button>
            )}
          </div>
          <div
            className="jp-hpc-Run-event"
            title={eventLabel(run.event, trans)}
          >
            {eventLabel(run.event, trans)}
          </div>
          {(run.result?.objects ?? []).map(uri => (
            <div key={uri} className="jp-hpc-Run-object">
              <button
                type="button"
                className="jp-hpc-LinkButton jp-hpc-Run-objectLink"
                data-testid="hpc-run-object"
                title={trans.__('Show %1 in its tier', uri)}
                aria-label={trans.__('Show %1 in its tier', uri)}
                onClick={() => actions.onOpenObject(uri)}
              >
                {uri}
              </button>
              <button
                type="button"
                className="jp-hpc-LinkButton"
                data-testid="hpc-run-lineage"
                aria-label={trans.__('Lineage of %1', uri)}
                onClick={() => actions.onShowLineage(uri)}
              >
                {trans.__('lineage')}
              </button>
            </div>
          ))}
          {run.reason && <p className="jp-hpc-Run-reason">{run.reason}</p>}
        </li>
      ))}
    </ul>
  );
}
