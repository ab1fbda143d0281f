import type { JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IStatusBar } from '@jupyterlab/statusbar';
import { CommandIDs } from '../commands';
import { hostedPlugin } from '../ui/hostedPlugin';
import { ConnectionModel } from './ConnectionModel';
import { StatusItem } from './StatusItem';

/**
 * Shows in the status bar who the bridge sees and whether versions match.
 */
export const statusPlugin: JupyterFrontEndPlugin<void> = hostedPlugin({
  id: 'jupyterlab-hpc-bridge:status',
  description:
    'Shows the HPC Bridge connection in the status bar: the user, the bridge version and a warning when it does not match the extension.',
  host: IStatusBar,
  activate: (app, client, statusBar, trans) => {
    const model = new ConnectionModel({ client });
    const item = new StatusItem({
      model,
      trans,
      onClick: () => {
        if (app.commands.hasCommand(CommandIDs.openPanel)) {
          void app.commands.execute(CommandIDs.openPanel);
        }
      }
    });
    item.disposed.connect(() => model.dispose());
    statusBar.registerStatusItem(statusPlugin.id, {
      item,
      align: 'left',
      rank: 100
    });
  }
});
