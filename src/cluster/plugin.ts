import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { refreshIcon } from '@jupyterlab/ui-components';
import { CommandIDs, NO_ARGS } from '../commands';
import { hpcBridgeIcon } from '../icons';
import { IBridgeClient, IBridgePanel } from '../tokens';
import { SectionFolds } from '../ui/SectionFolds';
import { watchSettings } from '../ui/settings';
import { TRANSLATION_DOMAIN } from '../ui/translator';
// The side panel's tab must exist at start, so the shell loads with the plugin.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { BridgePanel } from './BridgePanel';
import { ClusterModel } from './ClusterModel';

/**
 * The **HPC Bridge** left side panel.
 */
export const panelPlugin: JupyterFrontEndPlugin<IBridgePanel> = {
  id: 'jupyterlab-hpc-bridge:panel',
  description:
    'Adds the HPC Bridge side panel, whose Cluster section lists partitions with free CPUs and GPUs; provides it so that other plugins add sections.',
  autoStart: true,
  provides: IBridgePanel,
  requires: [IBridgeClient],
  optional: [
    ISettingRegistry,
    ITranslator,
    ICommandPalette,
    ILayoutRestorer,
    IStateDB
  ],
  activate: (
    app: JupyterFrontEnd,
    client: IBridgeClient,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    state: IStateDB | null
  ): IBridgePanel => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const clusterModel = new ClusterModel({ client });
    const folds = new SectionFolds({ state });
    void app.restored.then(() => folds.restore()).catch(() => undefined);
    const panel = new BridgePanel({ clusterModel, trans, folds });
    panel.disposed.connect(() => clusterModel.dispose());
    app.shell.add(panel, 'left', { rank: 900 });
    if (restorer) {
      restorer.add(panel, 'jupyterlab-hpc-bridge:panel');
    }

    watchSettings(settingRegistry, panelPlugin.id, settings => {
      const interval = settings.get('refreshInterval').composite;
      if (typeof interval === 'number') {
        clusterModel.refreshInterval = interval;
      }
    });

    app.commands.addCommand(CommandIDs.openPanel, {
      label: trans.__('Open the HPC Bridge Panel'),
      caption: trans.__('Show the HPC Bridge side panel'),
      icon: hpcBridgeIcon,
      describedBy: NO_ARGS,
      execute: () => {
        app.shell.activateById(panel.id);
      }
    });
    app.commands.addCommand(CommandIDs.refreshClusters, {
      label: trans.__('Refresh Cluster Status'),
      caption: trans.__(
        'Ask the HPC Bridge for the current partitions and free resources'
      ),
      icon: refreshIcon,
      describedBy: NO_ARGS,
      execute: () => clusterModel.refresh()
    });
    if (palette) {
      const category = trans.__('HPC Bridge');
      palette.addItem({ command: CommandIDs.openPanel, category });
      palette.addItem({ command: CommandIDs.refreshClusters, category });
    }
    return panel;
  }
};
