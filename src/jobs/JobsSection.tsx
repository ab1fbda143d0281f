import { JobStateSchema } from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  Button,
  ReactWidget,
  UseSignal,
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
import { JobsModel } from './JobsModel';
import type { Bridge } from '../tokens';
import { Alert } from '../ui/Alert';
import { ClusterSection } from '../cluster/ClusterSection';
import { ErrorBoundary } from '../ui/ErrorBoundary';
import { TranslatorContext, useTranslator } from '../ui/translator';

/**
 * The **Jobs** section: filters, the table of jobs with live state and
 * progress, actions, and the details of the selected job.
 */
export function JobsSection(props: JobsSection.IProps): JSX.Element {
  const trans = useTranslator();
  const { jobs, total, error, loading, selected } = props;
  return (
    <section
      className="jp-hpc-Section jp-hpc-Jobs"
      aria-label={trans.__('Jobs')}
    >
      <h3 className="jp-hpc-Section-title">
        {trans.__('Jobs')}
        <span
          className={`jp-hpc-Jobs-live ${props.live ? 'jp-mod-live' : 'jp-mod-polling'}`}
          title={
            props.live
              ? trans.__('Live: the bridge pushes every change.')
              : trans.__('Polling: live updates are not available right now.')
          }
        >
          {props.live ? trans.__('live') : trans.__('polling')}
        </span>
      </h3>
      <JobsSection.Filters
        filters={props.filters}
        onChange={props.onFilters}
        allUsers={
          props.canShowAll
            ? { checked: props.showAll, onChange: props.onShowAll }
            : null
        }
      />
      {error && <Alert message={error.message} onRetry={props.onRetry} />}
      {props.actionError && (
        <div className="jp-hpc-Alert jp-mod-warning" role="alert">
          <p className="jp-hpc-Alert-message">{props.actionError.message}</p>
        </div>
      )}
      {loading && !error ? (
        <ClusterSection.Loading />
      ) : jobs.length === 0 ? (
        !error && (
          <p className="jp-hpc-Section-empty">
            {total === 0
              ? trans.__(
                  'No jobs yet. Submit a notebook with "Submit to cluster" in its toolbar.'
                )
              : trans.__('No job matches the filters.')}
          </p>
        )
      ) : (
        <JobsSection.Table {...props} />
      )}
      {selected && (
        <JobsSection.Details
          job={selected}
          onClose={() => props.onSelect(null)}
          onLog={props.onLog}
          onOpenOutput={props.onOpenOutput}
        />
      )}
    </section>
  );
}

export namespace JobsSection {
  export interface IProps {
    /** The first of the jobs that pass the filters (the rest behind "Show more"). */
    jobs: readonly Bridge.Job[];
    /** How many jobs pass the filters. */
    matching: number;
    onShowMore: () => void;
    /** How many jobs there are without filters. */
    total: number;
    filters: JobsModel.IFilters;
    selected: Bridge.Job | null;
    busy: ReadonlySet<string>;
    error: Error | null;
    actionError: Error | null;
    loading: boolean;
    live: boolean;
    /** Whether the "All users" toggle is offered (hub admins). */
    canShowAll: boolean;
    /** Whether every user's jobs are listed (the owner is shown then). */
    showAll: boolean;
    onFilters: (filters: JobsModel.IFilters) => void;
    onShowAll: (on: boolean) => void;
    onSelect: (id: string | null) => void;
    onAction: (job: Bridge.Job, action: Bridge.JobAction) => void;
    onLog: (job: Bridge.Job, element: number) => void;
    onOpenOutput: (job: Bridge.Job, element: number | null) => void;
    onRetry: () => Promise<void>;
  }

  /** State, name and date filters; for admins, the "All users" toggle. */
  export function Filters(props: {
    filters: JobsModel.IFilters;
    onChange: (filters: JobsModel.IFilters) => void;
    /** The "All users" toggle, or `null` to leave it out. */
    allUsers?: { checked: boolean; onChange: (on: boolean) => void } | null;
  }): JSX.Element {
    const trans = useTranslator();
    const { filters, onChange } = props;
    return (
      <div
        className="jp-hpc-JobFilters"
        role="search"
        aria-label={trans.__('Filter jobs')}
      >
        <select
          className="jp-mod-styled jp-hpc-JobFilters-state"
          aria-label={trans.__('State')}
          value={filters.state ?? ''}
          onChange={event => {
            const parsed = JobStateSchema.safeParse(event.target.value);
            onChange({
              ...filters,
              state: parsed.success ? parsed.data : undefined
            });
          }}
        >
          <option value="">{trans.__('All states')}</option>
          {JobStateSchema.options.map(state => (
            <option key={state} value={state}>
              {state}
            </option>
          ))}
        </select>
        <input
          type="search"
          className="jp-mod-styled jp-hpc-JobFilters-name"
          aria-label={trans.__('Name')}
          placeholder={trans.__('Name contains…')}
          value={filters.name ?? ''}
          onChange={event => onChange({ ...filters, name: event.target.value })}
        />
        <input
          type="date"
          className="jp-mod-styled jp-hpc-JobFilters-since"
          aria-label={trans.__('Submitted since')}
          title={trans.__('Submitted since')}
          value={filters.since ?? ''}
          onChange={event =>
            onChange({ ...filters, since: event.target.value || undefined })
          }
        />
        {props.allUsers && (
          <label
            className="jp-hpc-JobFilters-all"
            title={trans.__("Show every user's jobs (admins)")}
          >
            <input
              type="checkbox"
              checked={props.allUsers.checked}
              onChange={event => props.allUsers?.onChange(event.target.checked)}
            />
            {trans.__('All users')}
          </label>
        )}
      </div>
    );
  }

  /** The state as a coloured badge, e.g. `COMPLETED`. */
  export function StateBadge(props: {
    state: Bridge.JobState;
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
  export function ProgressBar(props: {
    progress: Bridge.JobElement['progress'];
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

  /** The table of jobs. */
  export function Table(props: IProps): JSX.Element {
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

  function Row(
    props: IProps & { job: Bridge.Job; isSelected: boolean; isBusy: boolean }
  ): JSX.Element {
    const trans = useTranslator();
    const { job } = props;
    const labels: Record<Bridge.JobAction, [string, string, LabIcon]> = {
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
          <StateBadge
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
          <ProgressBar
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
              aria-expanded={props.isSelected}
              title={trans.__('Show the details of this job')}
              onClick={() => props.onSelect(props.isSelected ? null : job.id)}
            >
              <infoIcon.react tag="span" />
            </Button>
          </div>
        </td>
      </tr>
    );
  }

  /** Node, elapsed time, exit code, memory, queue; one line per element. */
  export function Details(props: {
    job: Bridge.Job;
    onClose: () => void;
    onLog: IProps['onLog'];
    onOpenOutput: IProps['onOpenOutput'];
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
          <StateBadge state={job.state} />
          <Button
            minimal
            small
            aria-label={trans.__('Close details')}
            onClick={props.onClose}
          >
            ×
          </Button>
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
                <StateBadge state={element.state} reason={element.reason} />
                <ProgressBar
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
                <Button
                  minimal
                  small
                  aria-label={trans.__('Log')}
                  title={trans.__(
                    'Follow the log of element %1',
                    element.index
                  )}
                  onClick={() => props.onLog(job, element.index)}
                >
                  <textEditorIcon.react tag="span" />
                </Button>
                {JobsModel.isTerminal(element.state) && (
                  <Button
                    minimal
                    small
                    aria-label={trans.__('Open output')}
                    title={trans.__(
                      'Save the executed notebook of element %1 and open it',
                      element.index
                    )}
                    onClick={() => props.onOpenOutput(job, element.index)}
                  >
                    <launchIcon.react tag="span" />
                  </Button>
                )}
              </li>
            ))}
          </ul>
        )}
      </div>
    );
  }

  function elementRows(
    element: Bridge.JobElement,
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

  function formatTime(iso: string): string {
    const date = new Date(iso);
    const today = new Date();
    return date.toDateString() === today.toDateString()
      ? date.toLocaleTimeString()
      : date.toLocaleDateString();
  }
}

/**
 * The **Jobs** section of the HPC Bridge panel, re-rendered when the model
 * changes.
 */
export class JobsSectionWidget extends ReactWidget {
  constructor(options: JobsSectionWidget.IOptions) {
    super();
    this._options = options;
    this.addClass('jp-hpc-JobsSectionWidget');
    this.title.label = options.trans.__('Jobs');
  }

  render(): JSX.Element {
    const { model, trans } = this._options;
    const callbacks = this._options;
    return (
      <TranslatorContext.Provider value={trans}>
        <ErrorBoundary>
          <UseSignal signal={model.changed}>
            {() => (
              <JobsSection
                jobs={model.shown}
                matching={model.filtered.length}
                onShowMore={() => model.showMore()}
                total={model.jobs.length}
                filters={model.filters}
                selected={model.selected}
                busy={model.busy}
                error={model.error}
                actionError={model.actionError}
                loading={model.loading}
                live={model.live}
                canShowAll={model.canShowAll}
                showAll={model.showAll}
                onFilters={filters => {
                  model.filters = filters;
                }}
                onShowAll={on => {
                  model.showAll = on;
                }}
                onSelect={id => {
                  model.selectedId = id;
                  if (id) {
                    void model.reload(id).catch(() => undefined);
                  }
                }}
                onAction={(job, action) => callbacks.onAction(job, action)}
                onLog={(job, element) => callbacks.onLog(job, element)}
                onOpenOutput={(job, element) =>
                  callbacks.onOpenOutput(job, element)
                }
                onRetry={() => model.refresh()}
              />
            )}
          </UseSignal>
        </ErrorBoundary>
      </TranslatorContext.Provider>
    );
  }

  private readonly _options: JobsSectionWidget.IOptions;
}

export namespace JobsSectionWidget {
  export interface IOptions {
    model: JobsModel;
    trans: TranslationBundle;
    onAction: (job: Bridge.Job, action: Bridge.JobAction) => void;
    onLog: (job: Bridge.Job, element: number) => void;
    onOpenOutput: (job: Bridge.Job, element: number | null) => void;
  }
}
