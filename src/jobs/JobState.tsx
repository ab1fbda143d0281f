import type { JobElement, JobState } from '@hpc-bridge/server/contract';
import React from 'react';
import { useTranslator } from '../ui/translator';

/** The state as a coloured badge, e.g. `COMPLETED`. */
export function JobStateBadge(props: {
  state: JobState;
  reason?: string | null;
}): JSX.Element {
  return (
    <span
      className={`jp-hpc-JobState jp-mod-${props.state.toLowerCase().replace(/_/g, '-')}`}
      title={props.reason ?? undefined}
    >
      {props.state}
    </span>
  );
}

/** "cell 7 of 20" with a bar. */
export function JobProgressBar(props: {
  progress: JobElement['progress'];
  label: string;
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
      <span className="jp-hpc-JobProgress-text">{text}</span>
    </span>
  );
}
