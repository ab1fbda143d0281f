import type { Job } from '@hpc-bridge/server/contract';
import {
  Button,
  caretDownIcon,
  caretUpIcon,
  refreshIcon,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';
import React from 'react';
import { Alert } from '../ui/Alert';
import { useTranslator } from '../ui/translator';
import { JobsModel } from './JobsModel';
import { JobsPageModel } from './JobsPageModel';
import { JobsSection } from './JobsSection';
import { JobProgressBar, JobStateBadge } from './JobState';

/**
 * The **Jobs** page of the main area: filters, a table sortable by its column
 * headers, a page of jobs at a time; a job's name opens its detail page.
 */
export function JobsPage(props: JobsPage.IProps): JSX.Element {
  const trans = useTranslator();
  const { page, jobs } = props;
  const rows = page.rows;
  const showOwner = jobs.showAll;
  return (
    <section className="jp-hpc-JobsPage" aria-label={trans.__('Jobs page')}>
      <div className="jp-hpc-JobsPage-toolbar">
        <JobsSection.Filters
          filters={page.filters}
          onChange={filters => {
            page.filters = filters;
          }}
          allUsers={
            jobs.canShowAll
              ? {
                  checked: jobs.showAll,
                  onChange: on => {
                    jobs.showAll = on;
                  }
                }
              : null
          }
        />
        <ToolbarButtonComponent
          icon={refreshIcon}
          tooltip={trans.__('Ask the HPC Bridge for the current list of jobs')}
          aria-label={trans.__('Refresh jobs')}
          onClick={() => void jobs.refresh()}
        />
      </div>
      {jobs.error && (
        <Alert message={jobs.error.message} onRetry={() => jobs.refresh()} />
      )}
      <table
        className="jp-hpc-JobsPage-table"
        aria-label={trans.__('All jobs')}
      >
        <thead>
          <tr>
            <SortHeader page={page} column="name" label={trans.__('Name')} />
            <SortHeader page={page} column="state" label={trans.__('State')} />
            <th scope="col">{trans.__('Progress')}</th>
            {showOwner && (
              <SortHeader
                page={page}
                column="owner"
                label={trans.__('Owner')}
              />
            )}
            <SortHeader
              page={page}
              column="cluster"
              label={trans.__('Cluster')}
            />
            <SortHeader
              page={page}
              column="submitted"
              label={trans.__('Submitted')}
            />
            <SortHeader
              page={page}
              column="updated"
              label={trans.__('Updated')}
            />
          </tr>
        </thead>
        <tbody>
          {rows.map(job => (
            <tr
              key={job.id}
              className="jp-hpc-JobsPage-row"
              data-job-id={job.id}
            >
              <td>
                <button
                  type="button"
                  className="jp-hpc-JobsPage-open"
                  title={trans.__('Open the details of %1', job.name)}
                  onClick={() => props.onOpen(job)}
                >
                  {job.name}
                </button>
                <span className="jp-hpc-JobTable-id">{job.id}</span>
              </td>
              <td>
                <JobStateBadge
                  state={job.state}
                  reason={job.elements[0]?.reason ?? null}
                />
              </td>
              <td>
                <JobProgressBar
                  progress={JobsModel.progress(job)}
                  label={trans.__('Progress of %1', job.name)}
                />
              </td>
              {showOwner && <td>{job.owner}</td>}
              <td>{job.cluster}</td>
              <td>
                <DateCell iso={job.submittedAt} />
              </td>
              <td>
                <DateCell iso={job.updatedAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && !jobs.loading && (
        <p className="jp-hpc-Section-empty">
          {page.total === 0
            ? trans.__('No jobs yet.')
            : trans.__('No job matches the filters.')}
        </p>
      )}
      <nav className="jp-hpc-JobsPage-pager" aria-label={trans.__('Pages')}>
        <Button
          small
          minimal
          disabled={page.page === 0}
          onClick={() => page.previousPage()}
        >
          {trans.__('Previous page')}
        </Button>
        <span className="jp-hpc-JobsPage-pageOf" role="status">
          {trans.__(
            'Page %1 of %2 · %3 jobs',
            page.page + 1,
            page.pageCount,
            page.matching.length
          )}
        </span>
        <Button
          small
          minimal
          disabled={page.page >= page.pageCount - 1}
          onClick={() => page.nextPage()}
        >
          {trans.__('Next page')}
        </Button>
      </nav>
    </section>
  );
}

export namespace JobsPage {
  export interface IProps {
    page: JobsPageModel;
    jobs: JobsModel;
    onOpen: (job: Job) => void;
  }
}

/** A column header that sorts by its column; `aria-sort` tells which way. */
function SortHeader(props: {
  page: JobsPageModel;
  column: JobsPageModel.SortKey;
  label: string;
}): JSX.Element {
  const { page, column, label } = props;
  const sorted = page.sort.key === column ? page.sort.direction : null;
  const Icon = sorted === 'ascending' ? caretUpIcon : caretDownIcon;
  return (
    <th scope="col" aria-sort={sorted ?? 'none'}>
      <button
        type="button"
        className={`jp-hpc-SortHeader${sorted ? ' jp-mod-sorted' : ''}`}
        onClick={() => page.sortBy(column)}
      >
        {label}
        <Icon.react tag="span" className="jp-hpc-SortHeader-icon" />
      </button>
    </th>
  );
}

function DateCell(props: { iso: string }): JSX.Element {
  return (
    <time dateTime={props.iso} title={props.iso}>
      {new Date(props.iso).toLocaleString()}
    </time>
  );
}
