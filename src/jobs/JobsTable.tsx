import type { Job } from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  Button,
  infoIcon,
  LabIcon,
  launchIcon,
  pauseIcon,
  redoIcon,
  runIcon,
  stopIcon,
  textEditorIcon
} from '@jupyterlab/ui-components';
import React from 'react';
import type { Bridge } from '../tokens';
import { useTranslator } from '../ui/translator';
import type { JobsSection } from './JobsSection';
import { JobsModel } from './JobsModel';
import { JobProgressBar, JobStateBadge } from './JobState';

/** The table of jobs. */
export function JobsTable(props: JobsSection.IProps): JSX.Element {
  const trans = useTranslator();
  return (
    <div className="jp-hpc-JobTable-wrapper">
      <table className="jp-hpc-JobTable" aria-label={trans.__('Jobs')}>
        <thead>
          <tr>
            <th scope="col">{trans.__('Name')}</th>
            <th scope="col">{trans.__('State')}</th>
            <th scope="col">{trans.__('Progress')}</th>
            <th scope="col">{trans.__('Submitted')}</th>
            <th scope="col">
              <span className="jp-hpc-visually-hidden">
                {trans.__('Actions')}
              </span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.jobs.map(job => (
            <Row
              key={job.id}
              {...props}
              job={job}
              isSelected={props.selected?.id === job.id}
              isBusy={props.busy.has(job.id)}
            />
          ))}
        </tbody>
      </table>
      {props.matching > props.jobs.length && (
        <div className="jp-hpc-JobTable-more">
          <span>
            {trans.__('%1 of %2 jobs', props.jobs.length, props.matching)}
          </span>
          <button
            type="button"
            className="jp-mod-styled jp-mod-reject"
            onClick={props.onShowMore}
          >
            {trans.__('Show more')}
          </button>
        </div>
      )}
    </div>
  );
}

/** Per action: its label, its tooltip and its icon. */
export function jobActionLabels(
  trans: TranslationBundle
): Record<Bridge.JobAction, [string, string, LabIcon]> {
  return {
    cancel: [trans.__('Cancel'), trans.__('Cancel this job'), stopIcon],
    hold: [
      trans.__('Hold'),
      trans.__('Hold: keep this job from starting'),
      pauseIcon
    ],
    release: [
      trans.__('Release'),
      trans.__('Release: let this held job start'),
      runIcon
    ],
    resubmit: [
      trans.__('Resubmit'),
      trans.__('Submit this job again with the same settings'),
      redoIcon
    ]
  };
}

function Row(
  props: JobsSection.IProps & {
    job: Job;
    isSelected: boolean;
    isBusy: boolean;
  }
): JSX.Element {
  const trans = useTranslator();
  const { job } = props;
  const labels = jobActionLabels(trans);
  const ended = JobsModel.isTerminal(job.state);
  return (
    <tr
      className={`jp-hpc-JobTable-row${props.isSelected ? ' jp-mod-selected' : ''}`}
      data-job-id={job.id}
      aria-selected={props.isSelected}
    >
      <td className="jp-hpc-JobTable-name">
        <span className="jp-hpc-JobTable-jobName">{job.name}</span>
        <span className="jp-hpc-JobTable-id">
          {props.showAll && (
            <span className="jp-hpc-JobTable-owner">{`${job.owner} · `}</span>
          )}
          {job.slurmId
            ? trans.__('%1 · SLURM %2', job.id, job.slurmId)
            : job.id}
          {job.isArray &&
            ` · ${trans._n('%1 element', '%1 elements', job.elements.length)}`}
        </span>
      </td>
      <td>
        <JobStateBadge
          state={job.state}
          reason={job.elements[0]?.reason ?? null}
        />
        {job.queuePosition !== null && (
          <span className="jp-hpc-JobTable-queue">
            {trans.__('#%1 in queue', job.queuePosition)}
          </span>
        )}
      </td>
      <td>
        <JobProgressBar
          progress={JobsModel.progress(job)}
          label={trans.__('Progress of %1', job.name)}
        />
      </td>
      <td className="jp-hpc-JobTable-submitted">
        <time dateTime={job.submittedAt} title={job.submittedAt}>
          {formatTime(job.submittedAt)}
        </time>
      </td>
      <td className="jp-hpc-JobTable-actions">
        <div className="jp-hpc-JobTable-buttons">
          {JobsModel.actions(job).map(action => {
            const [label, title, icon] = labels[action];
            return (
              <Button
                key={action}
                minimal
                small
                disabled={props.isBusy}
                aria-label={label}
                title={title}
                onClick={() => props.onAction(job, action)}
              >
                <icon.react tag="span" />
              </Button>
            );
          })}
          <Button
            minimal
            small
            aria-label={trans.__('Log')}
            title={trans.__('Follow the log of this job')}
            onClick={() => props.onLog(job, 0)}
          >
            <textEditorIcon.react tag="span" />
          </Button>
          {ended && !job.isArray && (
            <Button
              minimal
              small
              aria-label={trans.__('Open output')}
              title={trans.__(
                'Save the executed notebook next to the source and open it'
              )}
              onClick={() => props.onOpenOutput(job, null)}
            >
              <launchIcon.react tag="span" />
            </Button>
          )}
          <Button
            minimal
            small
            aria-label={trans.__('Details')}
            title={trans.__('Open the details of this job in the main area')}
            onClick={() => props.onSelect(job.id)}
          >
            <infoIcon.react tag="span" />
          </Button>
        </div>
      </td>
    </tr>
  );
}

function formatTime(iso: string): string {
  const date = new Date(iso);
  const today = new Date();
  return date.toDateString() === today.toDateString()
    ? date.toLocaleTimeString()
    : date.toLocaleDateString();
}
