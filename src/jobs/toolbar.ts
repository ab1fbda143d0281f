import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ToolbarButton } from '@jupyterlab/ui-components';
import type { IDisposable } from '@lumino/disposable';
import { CommandIDs } from '../commands';
import { hpcBridgeIcon } from '../icons';

/** Adds **Submit to cluster** to every notebook's toolbar. */
export class SubmitToolbarExtension implements DocumentRegistry.IWidgetExtension<
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
