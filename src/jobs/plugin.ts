import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { refreshIcon, runIcon, ToolbarButton } from '@jupyterlab/ui-components';
import type { IDisposable } from '@lumino/disposable';
import { CommandIDs } from '../commands';
import { hpcBridgeIcon } from '../icons';
import type { JobActions } from './actions';
// The Jobs section must exist when the panel opens: loaded with the plugin.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { JobsModel } from './JobsModel';
import { Bridge, IBridgeClient, IBridgePanel } from '../tokens';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { JobsSectionWidget } from './JobsSection';
import { showCredentialDialog } from './CredentialDialog';
import { TRANSLATION_DOMAIN } from '../ui/translator';

const NO_ARGS = { args: { type: 'object', properties: {} } } as const;

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
    ITranslator
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
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const model = new JobsModel({ client });
    const options = { notify: true, autoScroll: true };
    let loaded: Promise<JobActions> | null = null;
    /** The actions, loaded on first use. */
    const jobs = (): Promise<JobActions> =>
      (loaded ??= import('./actions').then(
        module =>
          new module.JobActions({ app, client, model, trans, docManager })
      ));

    client.clusterAuthFailed.connect((_, credential) => {
      void showCredentialDialog(credential, trans);
    });

    if (settingRegistry) {
      void settingRegistry
        .load(jobsPlugin.id)
        .then(settings => {
          const apply = () => {
            options.notify = settings.get('notifyOnEnd').composite !== false;
            options.autoScroll = settings.get('followLogs').composite !== false;
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => {
          console.error(
            `${jobsPlugin.id}: cannot load the settings, using defaults.`,
            reason
          );
        });
    }

    if (panel) {
      panel.addSection(
        new JobsSectionWidget({
          model,
          trans,
          onAction: (job, action) => {
            void model.act(job.id, action).catch(() => undefined);
          },
          onLog: (job, element) =>
            void jobs().then(actions =>
              actions.openLog(job, element, options.autoScroll)
            ),
          onOpenOutput: (job, element) =>
            void jobs().then(actions => actions.openOutput(job, element))
        }),
        { rank: 200 }
      );
    }

    model.jobEnded.connect((_, job) => {
      void jobs().then(actions => {
        void actions.applyCellJob(job, notebooks);
        if (options.notify) {
          actions.notify(job, () => {
            if (panel) {
              model.selectedId = job.id;
              app.shell.activateById(panel.id);
            }
          });
        }
      });
    });

    const openJobs = () => {
      if (panel) {
        app.shell.activateById(panel.id);
      }
    };
    const submitted = (job: Bridge.Job | null) => {
      if (job) {
        openJobs();
      }
    };

    const current = (): NotebookPanel | null =>
      notebooks?.currentWidget ?? null;

    app.commands.addCommand(CommandIDs.submitNotebook, {
      label: trans.__('Submit to cluster…'),
      caption: trans.__(
        'Save the current notebook and submit it as a SLURM job through the HPC Bridge'
      ),
      icon: hpcBridgeIcon,
      describedBy: NO_ARGS,
      isEnabled: () => current() !== null,
      execute: async () => {
        const notebook = current();
        if (!notebook) {
          return;
        }
        const actions = await jobs();
        const content = await actions.saveAndRead(notebook);
        submitted(
          await actions.submitDialog({ path: notebook.context.path, content })
        );
      }
    });

    app.commands.addCommand(CommandIDs.submitFile, {
      label: trans.__('Submit to cluster…'),
      caption: trans.__(
        'Submit the selected notebook file as a SLURM job through the HPC Bridge'
      ),
      icon: hpcBridgeIcon,
      describedBy: {
        args: {
          type: 'object',
          properties: {
            path: {
              type: 'string',
              description: trans.__(
                'The notebook to submit; defaults to the file browser selection'
              )
            }
          }
        }
      },
      execute: async args => {
        let path = typeof args['path'] === 'string' ? args['path'] : null;
        if (!path && browsers) {
          const browser = browsers.tracker.currentWidget;
          for (const item of browser?.selectedItems() ?? []) {
            if (item.type === 'notebook') {
              path = item.path;
              break;
            }
          }
        }
        if (!path) {
          return;
        }
        const file = await app.serviceManager.contents.get(path, {
          type: 'notebook',
          content: true
        });
        const actions = await jobs();
        const content = actions.parseNotebook(file.content);
        submitted(await actions.submitDialog({ path: file.path, content }));
      }
    });

    app.commands.addCommand(CommandIDs.runSelectedCells, {
      label: trans.__('Run Selected Cells on Cluster…'),
      caption: trans.__(
        'Run the cells tagged "setup" and the selected cells as a SLURM job; their outputs come back under the cells'
      ),
      icon: runIcon,
      describedBy: NO_ARGS,
      isEnabled: () => current() !== null,
      execute: async () => {
        const notebook = current();
        if (!notebook) {
          return;
        }
        const actions = await jobs();
        const content = await actions.saveAndRead(notebook);
        const cells = actions.selectedCells(notebook, content);
        const job = await actions.submitDialog(
          { path: notebook.context.path, content },
          cells
        );
        if (job) {
          actions.watchCellJob(job.id, {
            path: notebook.context.path,
            cells,
            source: content.cells
          });
        }
        submitted(job);
      }
    });

    app.commands.addCommand(CommandIDs.openJobs, {
      label: trans.__('Show HPC Jobs'),
      caption: trans.__('Show the Jobs section of the HPC Bridge panel'),
      icon: hpcBridgeIcon,
      describedBy: NO_ARGS,
      isEnabled: () => panel !== null,
      execute: () => {
        openJobs();
        return model.refresh();
      }
    });

    app.commands.addCommand(CommandIDs.refreshJobs, {
      label: trans.__('Refresh HPC Jobs'),
      caption: trans.__('Ask the HPC Bridge for the current list of jobs'),
      icon: refreshIcon,
      describedBy: NO_ARGS,
      execute: () => model.refresh()
    });

    if (notebooks) {
      app.docRegistry.addWidgetExtension(
        'Notebook',
        new Private.ToolbarExtension(app, trans)
      );
      notebooks.currentChanged.connect(() => {
        app.commands.notifyCommandChanged(CommandIDs.submitNotebook);
        app.commands.notifyCommandChanged(CommandIDs.runSelectedCells);
      });
    }

    app.contextMenu.addItem({
      command: CommandIDs.submitFile,
      selector: '.jp-DirListing-item[data-file-type="notebook"]',
      rank: 60
    });
    app.contextMenu.addItem({
      command: CommandIDs.runSelectedCells,
      selector: '.jp-Notebook .jp-Cell',
      rank: 60
    });

    if (palette) {
      const category = trans.__('HPC Bridge');
      for (const command of [
        CommandIDs.submitNotebook,
        CommandIDs.runSelectedCells,
        CommandIDs.openJobs,
        CommandIDs.refreshJobs
      ]) {
        palette.addItem({ command, category });
      }
    }
  }
};

namespace Private {
  /** Adds **Submit to cluster** to every notebook's toolbar. */
  export class ToolbarExtension implements DocumentRegistry.IWidgetExtension<
    NotebookPanel,
    DocumentRegistry.IModel
  > {
    constructor(
      private readonly _app: JupyterFrontEnd,
      private readonly _trans: TranslationBundle
    ) {}

    createNew(panel: NotebookPanel): IDisposable {
      const button = new ToolbarButton({
        icon: hpcBridgeIcon,
        label: this._trans.__('Submit to cluster'),
        tooltip: this._trans.__(
          'Save this notebook and submit it as a SLURM job through the HPC Bridge'
        ),
        onClick: () => {
          this._app.shell.activateById(panel.id);
          void this._app.commands.execute(CommandIDs.submitNotebook);
        }
      });
      button.addClass('jp-hpc-SubmitButton');
      if (!panel.toolbar.insertAfter('cellType', 'hpc-bridge-submit', button)) {
        panel.toolbar.addItem('hpc-bridge-submit', button);
      }
      return button;
    }
  }
}
