import type { Job, JobElement } from '@hpc-bridge/server/contract';
import { Button, launchIcon, textEditorIcon } from '@jupyterlab/ui-components';
import React from 'react';
import { IconButton } from '../ui/IconButton';
import { useTranslator } from '../ui/translator';
import type { JobsSection } from './JobsSection';
import { JobsModel } from './JobsModel';
import { JobProgressBar, JobStateBadge } from './JobState';

/** Node, elapsed time, exit code, memory, queue; one line per element. */
export function JobDetails(props: {
  job: Job;
  /** Offers a close button when given. */
  onClose?: () => void;
  onLog: JobsSection.IProps['onLog'];
  onOpenOutput: JobsSection.IProps['onOpenOutput'];
}): JSX.Element {
  const trans = useTranslator();
  const { job } = props;
  const first = job.elements[0];
  const rows: Array<[string, string]> = [
    [trans.__('Job'), job.id],
    [trans.__('SLURM id'), job.slurmId ?? '–'],
    [trans.__('Notebook'), job.notebookPath],
    [trans.__('Profile'), `${job.profile} (${job.partition})`],
    [
      trans.__('Resources'),
      trans.__(
        '%1 min, %2 CPUs, %3 MB, %4 GPUs',
        job.resources.timeMinutes,
        job.resources.cpus,
        job.resources.memoryMB,
        job.resources.gpus
      )
    ]
  ];
  if (job.queuePosition !== null) {
    rows.push([trans.__('Queue position'), String(job.queuePosition)]);
  }
  if (job.expectedStart) {
    rows.push([
      trans.__('Expected start'),
      new Date(job.expectedStart).toLocaleString()
    ]);
  }
  if (!job.isArray && first) {
    rows.push(...elementRows(first, trans));
  }
  if (job.resubmittedFrom) {
    rows.push([trans.__('Resubmitted from'), job.resubmittedFrom]);
  }
  return (
    <div
      className="jp-hpc-JobDetails"
      role="region"
      aria-label={trans.__('Job details')}
    >
      <h4 className="jp-hpc-JobDetails-title">
        <span>{job.name}</span>
        <JobStateBadge state={job.state} />
        {props.onClose && (
          <Button
            minimal
            small
            aria-label={trans.__('Close details')}
            onClick={props.onClose}
          >
            ×
          </Button>
        )}
      </h4>
      <dl className="jp-hpc-JobDetails-list">
        {rows.map(([term, value]) => (
          <React.Fragment key={term}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </React.Fragment>
        ))}
      </dl>
      {job.isArray && (
        <ul
          className="jp-hpc-JobElements"
          aria-label={trans.__('Array elements')}
        >
          {job.elements.map(element => (
            <li
              key={element.index}
              className="jp-hpc-JobElement"
              data-element={element.index}
              aria-label={trans.__('Element %1', element.index)}
            >
              <span className="jp-hpc-JobElement-index">
                {trans.__('#%1', element.index)}
              </span>
              <JobStateBadge state={element.state} reason={element.reason} />
              <JobProgressBar
                progress={element.progress}
                label={trans.__('Progress of element %1', element.index)}
              />
              <span className="jp-hpc-JobElement-params">
                {Object.entries(element.parameters)
                  .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
                  .join(', ')}
              </span>
              <span className="jp-hpc-JobElement-meta">
                {elementRows(element, trans)
                  .map(([term, value]) => `${term}: ${value}`)
                  .join(' · ')}
              </span>
              <IconButton
                label={trans.__('Log')}
                title={trans.__('Follow the log of element %1', element.index)}
                icon={textEditorIcon}
                onClick={() => props.onLog(job, element.index)}
              />
              {JobsModel.isTerminal(element.state) && (
                <IconButton
                  label={trans.__('Open output')}
                  title={trans.__(
                    'Save the executed notebook of element %1 and open it',
                    element.index
                  )}
                  icon={launchIcon}
                  onClick={() => props.onOpenOutput(job, element.index)}
                />
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function elementRows(
  element: JobElement,
  trans: ReturnType<typeof useTranslator>
): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  if (element.node) {
    rows.push([trans.__('Node'), element.node]);
  }
  if (element.elapsedSeconds !== null) {
    rows.push([trans.__('Elapsed'), formatDuration(element.elapsedSeconds)]);
  }
  if (element.exitCode !== null) {
    rows.push([trans.__('Exit code'), element.exitCode]);
  }
  if (element.maxRssMB !== null) {
    rows.push([trans.__('MaxRSS'), `${element.maxRssMB.toFixed(1)} MB`]);
  }
  if (element.reason && element.reason !== 'None') {
    rows.push([trans.__('Reason'), element.reason]);
  }
  return rows;
}

export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${m}:${ss}`;
}
