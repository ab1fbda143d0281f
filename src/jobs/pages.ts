import type { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import type { ICommandPalette } from '@jupyterlab/apputils';
import type { IStateDB } from '@jupyterlab/statedb';
import type { TranslationBundle } from '@jupyterlab/translation';
import { listIcon } from '@jupyterlab/ui-components';
import React from 'react';
import { CommandIDs, NO_ARGS } from '../commands';
import { hpcBridgeIcon } from '../icons';
import type { IBridgeClient } from '../tokens';
import { addPageCommand } from '../ui/pageCommand';
import { ModelPage } from '../ui/ModelPage';
import type { JobActions } from './actions';
import { JobPage } from './JobPage';
import { JobPageModel } from './JobPageModel';
import { JobsModel } from './JobsModel';
import { JobsPage } from './JobsPage';
import { JobsPageModel } from './JobsPageModel';

/**
 * Registers the main-area pages of jobs: the Jobs page
 * (`hpc-bridge:open-jobs-page`) and a job's detail page
 * (`hpc-bridge:open-job` with `{ id }`), both restored with the workspace.
 */
export function registerJobPages(
  app: JupyterFrontEnd,
  options: {
    model: JobsModel;
    client: IBridgeClient;
    /** The actions, loaded on first use. */
    jobs: () => Promise<JobActions>;
    palette: ICommandPalette | null;
    restorer: ILayoutRestorer | null;
    /** Where the Jobs page remembers its sort, filters and page. */
    state: IStateDB | null;
    trans: TranslationBundle;
    /** Whether logs follow new lines (the `followLogs` setting). */
    autoScroll: () => boolean;
  }
): void {
  const { model, client, jobs, palette, restorer, trans } = options;
  const openJob = (id: string) =>
    void app.commands.execute(CommandIDs.openJob, { id });

  addPageCommand(app, {
    command: CommandIDs.openJobsPage,
    namespace: 'hpc-bridge-jobs-page',
    restorer,
    commandOptions: {
      label: trans.__('Open the Jobs Page'),
      caption: trans.__(
        'Show every job in a sortable, filterable table in the main area'
      ),
      icon: listIcon,
      describedBy: NO_ARGS
    },
    id: () => 'jp-hpc-jobs-page',
    args: () => ({}),
    create: () => {
      const pageModel = new JobsPageModel({
        source: model,
        state: options.state
      });
      void pageModel.restore().catch(() => undefined);
      return new ModelPage({
        model: pageModel,
        trans,
        id: 'jp-hpc-jobs-page',
        className: 'jp-hpc-JobsPageWidget',
        label: trans.__('HPC Jobs'),
        icon: hpcBridgeIcon,
        render: page =>
          React.createElement(JobsPage, {
            page,
            jobs: model,
            onOpen: job => openJob(job.id)
          })
      });
    }
  });

  addPageCommand<ModelPage<JobPageModel>>(app, {
    command: CommandIDs.openJob,
    namespace: 'hpc-bridge-job',
    restorer,
    commandOptions: {
      label: args =>
        typeof args['id'] === 'string'
          ? trans.__('Open Job %1', args['id'])
          : trans.__('Open Job'),
      caption: trans.__(
        'Show a job in the main area: its elements, log, output, parameters, resources and actions'
      ),
      icon: hpcBridgeIcon,
      describedBy: {
        args: {
          type: 'object',
          properties: {
            id: { type: 'string', description: trans.__('The job id') }
          },
          required: ['id']
        }
      }
    },
    id: args =>
      typeof args['id'] === 'string' ? `jp-hpc-job-${args['id']}` : null,
    args: page => ({ id: page.model.jobId }),
    create: args => {
      const jobId = String(args['id']);
      const jobPageModel = new JobPageModel({ jobId, jobs: model, client });
      const page = new ModelPage({
        model: jobPageModel,
        trans,
        id: `jp-hpc-job-${jobId}`,
        className: 'jp-hpc-JobPageWidget',
        label: trans.__('Job %1', jobId),
        icon: hpcBridgeIcon,
        render: jobPage =>
          React.createElement(JobPage, {
            model: jobPage,
            autoScroll: options.autoScroll(),
            onAction: (_, action) =>
              void jobPage
                .act(action)
                .then(acted => {
                  if (action === 'resubmit') {
                    openJob(acted.id);
                  }
                })
                .catch(() => undefined),
            onLog: (job, element) =>
              void jobs().then(actions =>
                actions.openLog(job, element, options.autoScroll())
              ),
            onOpenOutput: (job, element) =>
              void jobs().then(actions => actions.openOutput(job, element)),
            onShowLineage: (tier, path) =>
              void app.commands.execute(CommandIDs.showLineage, { tier, path })
          })
      });
      jobPageModel.changed.connect(() => {
        const name = jobPageModel.job?.name;
        if (name) {
          page.title.label = trans.__('Job: %1 (%2)', name, jobId);
        }
      });
      return page;
    }
  });

  if (palette) {
    palette.addItem({
      command: CommandIDs.openJobsPage,
      category: trans.__('HPC Bridge')
    });
  }
}
