import { type Job, JobStateSchema } from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import { launchIcon } from '@jupyterlab/ui-components';
import React from 'react';
import { JobsModel } from './JobsModel';
import { JobsTable } from './JobsTable';
import type { Bridge } from '../tokens';
import { Alert } from '../ui/Alert';
import { IconButton } from '../ui/IconButton';
import { ClusterSection } from '../cluster/ClusterSection';
import { Section } from '../ui/Section';
import { SectionWidget } from '../ui/SectionWidget';
import { useTranslator } from '../ui/translator';

/**
 * The **Jobs** section: filters, the table of jobs with live state and
 * progress, actions, and the details of the selected job.
 */
export function JobsSection(props: JobsSection.IProps): JSX.Element {
  const trans = useTranslator();
  const { jobs, total, error, loading } = props;
  return (
    <Section
      id="jobs"
      title={trans.__('Jobs')}
      className="jp-hpc-Jobs"
      status={
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
      }
      toolbar={
        props.jobsPage && (
          <IconButton
            className="jp-hpc-Jobs-openPage"
            label={trans.__('Open the Jobs page')}
            title={trans.__('Open the Jobs page in the main area')}
            icon={launchIcon}
            onClick={props.jobsPage.open}
          />
        )
      }
      refreshLabel={trans.__('Refresh the jobs')}
      onRefresh={() => void props.onRetry()}
    >
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
        <JobsTable {...props} />
      )}
    </Section>
  );
}

export namespace JobsSection {
  export interface IProps {
    /** The first of the jobs that pass the filters (the rest behind "Show more"). */
    jobs: readonly Job[];
    /** How many jobs pass the filters. */
    matching: number;
    onShowMore: () => void;
    /** How many jobs there are without filters. */
    total: number;
    filters: JobsModel.IFilters;
    selected: Job | null;
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
    onAction: (job: Job, action: Bridge.JobAction) => void;
    onLog: (job: Job, element: number) => void;
    onOpenOutput: (job: Job, element: number | null) => void;
    onRetry: () => Promise<void>;
    /** The main-area Jobs page, when one is installed. */
    jobsPage?: { open: () => void } | null;
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
}

/**
 * The **Jobs** section of the HPC Bridge panel, re-rendered when the model
 * changes.
 */
export class JobsSectionWidget extends SectionWidget<JobsModel> {
  constructor(options: JobsSectionWidget.IOptions) {
    super({
      ...options,
      className: 'jp-hpc-JobsSectionWidget',
      label: options.trans.__('Jobs'),
      render: model => (
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
              options.onDetails(id);
            }
          }}
          onAction={(job, action) => options.onAction(job, action)}
          onLog={(job, element) => options.onLog(job, element)}
          onOpenOutput={(job, element) => options.onOpenOutput(job, element)}
          onRetry={() => model.refresh()}
          jobsPage={options.jobsPage?.()}
        />
      )
    });
  }
}

export namespace JobsSectionWidget {
  export interface IOptions {
    model: JobsModel;
    trans: TranslationBundle;
    onAction: (job: Job, action: Bridge.JobAction) => void;
    onLog: (job: Job, element: number) => void;
    onOpenOutput: (job: Job, element: number | null) => void;
    /** The main-area Jobs page, asked at every render (it may be installed later). */
    jobsPage?: () => { open: () => void } | null;
    /** Opens the detail page of a job. */
    onDetails: (id: string) => void;
  }
}
