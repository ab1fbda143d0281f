import type { JobElement, JobState } from '@hpc-bridge/server/contract';
import {
  checkIcon,
  circleEmptyIcon,
  circleIcon,
  errorIcon,
  type LabIcon,
  pauseIcon,
  runningIcon,
  stopIcon
} from '@jupyterlab/ui-components';
import React from 'react';
import { useTranslator } from '../ui/translator';

function stateClass(state: JobState): string {
  return `jp-mod-${state.toLowerCase().replace(/_/g, '-')}`;
}

/** The state as a coloured badge, e.g. `COMPLETED`. */
export function JobStateBadge(props: {
  state: JobState;
  reason?: string | null;
}): JSX.Element {
  return (
    <span
      className={`jp-hpc-JobState ${stateClass(props.state)}`}
      title={props.reason ?? undefined}
    >
      {props.state}
    </span>
  );
}

const STATE_ICONS: Partial<Record<JobState, LabIcon>> = {
  SUBMITTED: circleEmptyIcon,
  PENDING: circleEmptyIcon,
  RUNNING: runningIcon,
  COMPLETING: runningIcon,
  SUSPENDED: pauseIcon,
  COMPLETED: checkIcon,
  CANCELLED: stopIcon,
  UNKNOWN: circleIcon
};

/**
 * The state as an icon in the state's colour, for narrow rows; its accessible
 * name and tooltip are the full state (and the reason, if any).
 */
export function JobStateIcon(props: {
  state: JobState;
  reason?: string | null;
}): JSX.Element {
  const Icon = STATE_ICONS[props.state] ?? errorIcon;
  return (
    <span
      className={`jp-hpc-JobState jp-mod-icon ${stateClass(props.state)}`}
      role="img"
      aria-label={props.state}
      title={props.reason ? `${props.state}: ${props.reason}` : props.state}
    >
      <Icon.react tag="span" aria-hidden="true" />
      <span className="jp-hpc-visually-hidden">{props.state}</span>
    </span>
  );
}

/** "cell 7 of 20" with a bar. */
export function JobProgressBar(props: {
  progress: JobElement['progress'];
  label: string;
  /** Shows "7/20" instead of "cell 7 of 20" (the bar's value text stays long). */
  compact?: boolean;
}): JSX.Element {
  const trans = useTranslator();
  const { progress } = props;
  if (!progress || progress.of === 0) {
    return <span className="jp-hpc-JobProgress jp-mod-unknown">–</span>;
  }
  const text = trans.__('cell %1 of %2', progress.cell, progress.of);
  const percent = Math.min(100, (100 * progress.cell) / progress.of);
  return (
    <span className="jp-hpc-JobProgress">
      <span
        className="jp-hpc-JobProgress-bar"
        role="progressbar"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={progress.of}
        aria-valuenow={progress.cell}
        aria-valuetext={text}
      >
        <span
          className="jp-hpc-JobProgress-fill"
          style={{ width: `${percent}%` }}
        />
      </span>
      <span className="jp-hpc-JobProgress-text" aria-hidden={props.compact}>
        {props.compact ? `${progress.cell}/${progress.of}` : text}
      </span>
    </span>
  );
}
