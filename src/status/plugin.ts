import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { CommandIDs } from '../commands';
import { IBridgeClient } from '../tokens';
import { TRANSLATION_DOMAIN } from '../ui/translator';
import { ConnectionModel } from './ConnectionModel';
import { StatusItem } from './StatusItem';

/**
 * Shows in the status bar who the bridge sees and whether versions match.
 */
export const statusPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-hpc-bridge:status',
  description:
    'Shows the HPC Bridge connection in the status bar: the user, the bridge version and a warning when it does not match the extension.',
  autoStart: true,
  requires: [IBridgeClient],
  optional: [IStatusBar, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: IBridgeClient,
    statusBar: IStatusBar | null,
    translator: ITranslator | null
  ): void => {
    if (!statusBar) {
      return;
    }
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
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
};
