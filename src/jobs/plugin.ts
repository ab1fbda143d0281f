import type { Job } from '@hpc-bridge/server/contract';
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import {
  type Bridge,
  IBridgeClient,
  IBridgePanel,
  ITierFilePicker
} from '../tokens';
import { confirmDestructive, watchConfirmSetting } from '../ui/confirm';
import { watchSettings } from '../ui/settings';
import { CommandIDs } from '../commands';
import { TRANSLATION_DOMAIN } from '../ui/translator';
import type { JobActions } from './actions';
// The commands are registered at activation.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { registerJobCommands } from './commands';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { registerJobPages } from './pages';
import { showCredentialDialog } from './CredentialDialog';
// The Jobs section must exist when the panel opens: loaded with the plugin.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { JobsModel } from './JobsModel';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { JobsSectionWidget } from './JobsSection';

/**
 * Jobs: the Jobs section of the panel, the Submit to cluster dialog (notebook
 * toolbar, file browser, palette), cell jobs, logs, outputs and
 * notifications.
 */
export const jobsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-hpc-bridge:jobs',
  description:
    'Submits notebooks, cells and parameter sweeps to SLURM through the HPC Bridge, lists the jobs live in the HPC Bridge panel, follows logs and opens outputs.',
  autoStart: true,
  requires: [IBridgeClient],
  optional: [
    IBridgePanel,
    INotebookTracker,
    IFileBrowserFactory,
    IDocumentManager,
    ICommandPalette,
    ISettingRegistry,
    ITranslator,
    ILayoutRestorer,
    IStateDB,
    ITierFilePicker
  ],
  activate: (
    app: JupyterFrontEnd,
    client: IBridgeClient,
    panel: IBridgePanel | null,
    notebooks: INotebookTracker | null,
    browsers: IFileBrowserFactory | null,
    docManager: IDocumentManager | null,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    restorer: ILayoutRestorer | null,
    state: IStateDB | null,
    tierPicker: ITierFilePicker | null
  ): void => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const model = new JobsModel({ client });
    const options = { notify: true, autoScroll: true };
    let loaded: Promise<JobActions> | null = null;
    /** The actions, loaded on first use. */
    const jobs = (): Promise<JobActions> =>
      (loaded ??= import('./actions').then(
        module =>
          new module.JobActions({
            app,
            client,
            model,
            trans,
            docManager,
            tierPicker
          })
      ));

    client.clusterAuthFailed.connect((_, credential) => {
      void showCredentialDialog(credential, trans);
    });

    watchSettings(settingRegistry, jobsPlugin.id, settings => {
      options.notify = settings.get('notifyOnEnd').composite !== false;
      options.autoScroll = settings.get('followLogs').composite !== false;
    });

    const confirmSetting = watchConfirmSetting(settingRegistry);
    const confirmed = (job: Job, action: Bridge.JobAction): Promise<boolean> =>
      action === 'cancel'
        ? confirmDestructive(confirmSetting, {
            trans,
            title: trans.__('Cancel job %1?', job.name),
            body: trans.__(
              'SLURM stops it; what it wrote so far stays in its folder. A cancelled job cannot be resumed, only submitted again.'
            ),
            action: trans.__('Cancel job')
          })
        : Promise.resolve(true);
    const openJob = (id: string) =>
      void app.commands.execute(CommandIDs.openJob, { id });

    if (panel) {
      panel.addSection(
        new JobsSectionWidget({
          model,
          trans,
          onAction: (job, action) => {
            void confirmed(job, action).then(sure =>
              sure ? model.act(job.id, action).catch(() => undefined) : null
            );
          },
          onLog: (job, element) =>
            void jobs().then(actions =>
              actions.openLog(job, element, options.autoScroll)
            ),
          onOpenOutput: (job, element) =>
            void jobs().then(actions => actions.openOutput(job, element)),
          onDetails: openJob,
          jobsPage: () => ({
            open: () => void app.commands.execute(CommandIDs.openJobsPage)
          })
        }),
        { rank: 200 }
      );
    }

    model.jobEnded.connect((_, job) => {
      void jobs().then(actions => {
        void actions.applyCellJob(job, notebooks);
        if (options.notify) {
          actions.notify(job, shown => {
            if (shown) {
              openJob(shown.id);
            } else {
              void app.commands.execute(CommandIDs.openJobsPage);
            }
          });
        }
      });
    });

    registerJobPages(app, {
      model,
      client,
      jobs,
      palette,
      restorer,
      state,
      trans,
      autoScroll: () => options.autoScroll
    });

    registerJobCommands(app, {
      model,
      jobs,
      panel,
      notebooks,
      browsers,
      palette,
      trans
    });
  }
};
