import type { Job } from '@hpc-bridge/server/contract';
import {
  Button,
  launchIcon,
  refreshIcon,
  textEditorIcon,
  UseSignal
} from '@jupyterlab/ui-components';
import React from 'react';
import { Alert } from '../ui/Alert';
import { useTranslator } from '../ui/translator';
import { JobDataView } from './JobDataView';
import { JobDetails } from './JobDetails';
import { JobPageModel } from './JobPageModel';
import { JobsModel } from './JobsModel';
import { jobActionLabels } from './JobsTable';
import { LogViewer } from './LogViewer';

/**
 * A job's detail page: its actions, where and how it runs, its parameters,
 * its array elements and the log of one element.
 */
export function JobPage(props: JobPage.IProps): JSX.Element {
  const trans = useTranslator();
  const { model } = props;
  const job = model.job;
  if (job === null) {
    return (
      <div className="jp-hpc-JobPage">
        {model.error ? (
          <Alert message={model.error.message} onRetry={() => model.reload()} />
        ) : (
          <p className="jp-hpc-Section-empty">{trans.__('Loading…')}</p>
        )}
      </div>
    );
  }
  const labels = jobActionLabels(trans);
  const ended = JobsModel.isTerminal(job.state);
  const parameters = Object.entries(job.elements[0]?.parameters ?? {});
  return (
    <article
      className="jp-hpc-JobPage"
      aria-label={trans.__('Job %1', job.name)}
    >
      <div
        className="jp-hpc-JobPage-actions"
        role="toolbar"
        aria-label={trans.__('Job actions')}
      >
        {JobsModel.actions(job).map(action => {
          const [label, title, icon] = labels[action];
          return (
            <Button
              key={action}
              small
              className={action === 'cancel' ? 'jp-mod-warn' : undefined}
              disabled={model.busy}
              title={title}
              onClick={() => props.onAction(job, action)}
            >
              <icon.react tag="span" className="jp-hpc-JobPage-icon" />
              {label}
            </Button>
          );
        })}
        {ended && !job.isArray && (
          <Button
            small
            title={trans.__(
              'Save the executed notebook next to the source and open it'
            )}
            onClick={() => props.onOpenOutput(job, null)}
          >
            <launchIcon.react tag="span" className="jp-hpc-JobPage-icon" />
            {trans.__('Open output')}
          </Button>
        )}
        <Button
          small
          minimal
          title={trans.__('Ask the HPC Bridge for this job again')}
          onClick={() => void model.reload()}
        >
          <refreshIcon.react tag="span" className="jp-hpc-JobPage-icon" />
          {trans.__('Refresh')}
        </Button>
      </div>
      {model.actionError && (
        <div className="jp-hpc-Alert jp-mod-warning" role="alert">
          <p className="jp-hpc-Alert-message">{model.actionError.message}</p>
        </div>
      )}
      <JobDetails
        job={job}
        onLog={(_, element) => {
          model.logElement = element;
        }}
        onOpenOutput={props.onOpenOutput}
      />
      <JobDataView job={job} onShowLineage={props.onShowLineage} />
      <section
        className="jp-hpc-JobPage-section"
        aria-label={trans.__('Parameters')}
      >
        <h3 className="jp-hpc-JobPage-heading">{trans.__('Parameters')}</h3>
        {job.isArray ? (
          <p className="jp-hpc-Section-empty">
            {trans.__('Each element has its own parameters, listed above.')}
          </p>
        ) : parameters.length === 0 ? (
          <p className="jp-hpc-Section-empty">{trans.__('No parameters.')}</p>
        ) : (
          <table className="jp-hpc-JobPage-parameters">
            <tbody>
              {parameters.map(([name, value]) => (
                <tr key={name}>
                  <th scope="row">{name}</th>
                  <td>
                    <code>{JSON.stringify(value)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="jp-hpc-JobPage-section" aria-label={trans.__('Log')}>
        <h3 className="jp-hpc-JobPage-heading">
          {job.isArray
            ? trans.__('Log of element %1', model.logElement)
            : trans.__('Log')}
          <Button
            small
            minimal
            title={trans.__('Follow this log in a tab of its own')}
            onClick={() => props.onLog(job, model.logElement)}
          >
            <textEditorIcon.react tag="span" className="jp-hpc-JobPage-icon" />
            {trans.__('Open in a tab')}
          </Button>
        </h3>
        <UseSignal signal={model.log.changed}>
          {() => (
            <LogViewer.View
              key={model.logElement}
              model={model.log}
              autoScroll={props.autoScroll}
            />
          )}
        </UseSignal>
      </section>
    </article>
  );
}

export namespace JobPage {
  export interface IProps {
    model: JobPageModel;
    autoScroll: boolean;
    onAction: (job: Job, action: JobPageModel.Action) => void;
    onLog: (job: Job, element: number) => void;
    onOpenOutput: (job: Job, element: number | null) => void;
    /** Shows the lineage of an output the job wrote. */
    onShowLineage: (tier: string, path: string) => void;
  }
}
