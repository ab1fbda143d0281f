import type { Job, NotebookContent } from '@hpc-bridge/server/contract';
import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { ICommandPalette } from '@jupyterlab/apputils';
import type { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { TranslationBundle } from '@jupyterlab/translation';
import { refreshIcon, runIcon } from '@jupyterlab/ui-components';
import { CommandIDs, NO_ARGS } from '../commands';
import { hpcBridgeIcon } from '../icons';
import type { IBridgePanel } from '../tokens';
import type { JobActions } from './actions';
import type { JobsModel } from './JobsModel';
import { SubmitToolbarExtension } from './toolbar';

/**
 * Registers the jobs commands (submit a notebook or a file, run cells, show and
 * refresh the jobs), the notebook toolbar button, the context menu items and the
 * palette items.
 */
export function registerJobCommands(
  app: JupyterFrontEnd,
  options: {
    model: JobsModel;
    /** The actions, loaded on first use. */
    jobs: () => Promise<JobActions>;
    panel: IBridgePanel | null;
    notebooks: INotebookTracker | null;
    browsers: IFileBrowserFactory | null;
    palette: ICommandPalette | null;
    trans: TranslationBundle;
  }
): void {
  const { model, jobs, panel, notebooks, browsers, palette, trans } = options;
  const openJobs = () => {
    if (panel) {
      app.shell.activateById(panel.id);
    }
  };
  const submitted = (job: Job | null) => {
    if (job) {
      openJobs();
    }
  };

  const current = (): NotebookPanel | null => notebooks?.currentWidget ?? null;

  /**
   * Save and read the current notebook and offer to submit it; with
   * `pickCells`, only the cells it picks run (their outputs come back).
   */
  const submitCurrent = async (
    pickCells?: (
      actions: JobActions,
      notebook: NotebookPanel,
      content: NotebookContent
    ) => number[]
  ): Promise<void> => {
    const notebook = current();
    if (!notebook) {
      return;
    }
    const actions = await jobs();
    const content = await actions.saveAndRead(notebook);
    const path = notebook.context.path;
    const cells = pickCells?.(actions, notebook, content);
    const job = await actions.submitDialog({ path, content }, cells);
    if (job && cells) {
      actions.watchCellJob(job.id, { path, cells, source: content.cells });
    }
    submitted(job);
  };

  app.commands.addCommand(CommandIDs.submitNotebook, {
    label: trans.__('Submit to cluster…'),
    caption: trans.__(
      'Save the current notebook and submit it as a SLURM job through the HPC Bridge'
    ),
    icon: hpcBridgeIcon,
    describedBy: NO_ARGS,
    isEnabled: () => current() !== null,
    execute: () => submitCurrent()
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
    execute: () =>
      submitCurrent((actions, notebook, content) =>
        actions.selectedCells(notebook, content)
      )
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
      new SubmitToolbarExtension(app, trans)
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
  // With the cell items (JupyterLab's end at 12), before the notebook's (20).
  app.contextMenu.addItem({
    type: 'separator',
    selector: '.jp-Notebook .jp-Cell',
    rank: 13
  });
  app.contextMenu.addItem({
    command: CommandIDs.runSelectedCells,
    selector: '.jp-Notebook .jp-Cell',
    rank: 13
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
