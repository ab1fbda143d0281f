import type { Job } from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
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
import { type IMenuAction, MoreActionsButton } from '../ui/MoreActions';
import { useTranslator } from '../ui/translator';
import type { JobsSection } from './JobsSection';
import { JobsModel } from './JobsModel';
import { JobProgressBar, JobStateIcon } from './JobState';

/**
 * The table of jobs: compact rows (name, state icon, progress, a "…" menu of
 * actions) in a list of bounded height that scrolls inside the section.
 */
export function JobsTable(props: JobsSection.IProps): JSX.Element {
  const trans = useTranslator();
  return (
    <div className="jp-hpc-JobTable-wrapper">
      <div className="jp-hpc-JobTable-scroll">
        <table className="jp-hpc-JobTable" aria-label={trans.__('Jobs')}>
          <thead>
            <tr>
              <th scope="col">{trans.__('Name')}</th>
              <th scope="col" className="jp-hpc-JobTable-state">
                <span className="jp-hpc-visually-hidden">
                  {trans.__('State')}
                </span>
              </th>
              <th scope="col" className="jp-hpc-JobTable-progress">
                {trans.__('Progress')}
              </th>
              <th scope="col" className="jp-hpc-JobTable-actions">
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
      </div>
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
  const actions: IMenuAction[] = [
    {
      id: 'log',
      label: trans.__('Log'),
      caption: trans.__('Follow the log of this job'),
      icon: textEditorIcon,
      execute: () => props.onLog(job, 0)
    },
    ...(ended && !job.isArray
      ? [
          {
            id: 'open-output',
            label: trans.__('Open output'),
            caption: trans.__(
              'Save the executed notebook next to the source and open it'
            ),
            icon: launchIcon,
            execute: () => props.onOpenOutput(job, null)
          }
        ]
      : []),
    {
      id: 'details',
      label: trans.__('Details'),
      caption: trans.__('Open the details of this job in the main area'),
      icon: infoIcon,
      execute: () => props.onSelect(job.id)
    },
    ...JobsModel.actions(job).map(action => {
      const [label, caption, icon] = labels[action];
      return {
        id: action,
        label,
        caption,
        icon,
        enabled: !props.isBusy,
        execute: () => props.onAction(job, action)
      };
    })
  ];
  const submitted = formatTime(job.submittedAt);
  return (
    <tr
      className={`jp-hpc-JobTable-row${props.isSelected ? ' jp-mod-selected' : ''}`}
      data-job-id={job.id}
      aria-selected={props.isSelected}
    >
      <td className="jp-hpc-JobTable-name">
        <span className="jp-hpc-JobTable-jobName" title={job.name}>
          {job.name}
        </span>
        <span
          className="jp-hpc-JobTable-id"
          title={`${job.submittedAt} · ${job.id}${job.slurmId ? ` · SLURM ${job.slurmId}` : ''}`}
        >
          <time
            className="jp-hpc-JobTable-submitted"
            dateTime={job.submittedAt}
            aria-label={trans.__('Submitted %1', submitted)}
          >
            {submitted}
          </time>
          {' · '}
          {props.showAll && (
            <span className="jp-hpc-JobTable-owner">{`${job.owner} · `}</span>
          )}
          {job.slurmId
            ? trans.__('%1 · SLURM %2', job.id, job.slurmId)
            : job.id}
          {job.isArray &&
            ` · ${trans._n('%1 element', '%1 elements', job.elements.length)}`}
        </span>
        {job.queuePosition !== null && (
          <span className="jp-hpc-JobTable-queue">
            {trans.__('#%1 in queue', job.queuePosition)}
          </span>
        )}
      </td>
      <td className="jp-hpc-JobTable-state">
        <JobStateIcon
          state={job.state}
          reason={job.elements[0]?.reason ?? null}
        />
      </td>
      <td className="jp-hpc-JobTable-progress">
        <JobProgressBar
          compact
          progress={JobsModel.progress(job)}
          label={trans.__('Progress of %1', job.name)}
        />
      </td>
      <td className="jp-hpc-JobTable-actions">
        <MoreActionsButton
          label={trans.__('Actions for %1', job.name)}
          actions={actions}
        />
      </td>
    </tr>
  );
}

function formatTime(iso: string): string {
  const date = new Date(iso);
  const today = new Date();
  return date.toDateString() === today.toDateString()
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleDateString();
}
