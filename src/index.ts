import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { refreshIcon } from '@jupyterlab/ui-components';
import { BridgeClient } from './client';
import { CommandIDs } from './commands';
import { adminPlugin } from './admin/plugin';
import { coursePlugin } from './courses/plugin';
import { endpointsPlugin } from './endpoints/plugin';
import { jobsPlugin } from './jobs';
import { storagePlugin } from './storage/plugin';
import { hpcBridgeIcon } from './icons';
import { ClusterModel } from './models/ClusterModel';
import { ConnectionModel } from './models/ConnectionModel';
import { IBridgeClient, IBridgePanel } from './tokens';
// The side panel's tab must exist at start, so the shell loads with the plugin.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { BridgePanel } from './widgets/BridgePanel';
import { StatusItem } from './widgets/StatusItem';
import { TRANSLATION_DOMAIN } from './widgets/translator';

export { BridgeClient, BridgeRequestError } from './client';
export { CommandIDs } from './commands';
export { Bridge, IBridgeClient, IBridgePanel } from './tokens';

const NO_ARGS = { args: { type: 'object', properties: {} } } as const;

/**
 * Finds the bridge, authenticates with the user's hub token and provides
 * `IBridgeClient`.
 */
const corePlugin: JupyterFrontEndPlugin<IBridgeClient> = {
  id: 'jupyterlab-hpc-bridge:core',
  description:
    'Provides the HPC Bridge client: finds the bridge behind JupyterHub or at the configured URL and authenticates as the user.',
  autoStart: true,
  provides: IBridgeClient,
  optional: [ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ): IBridgeClient => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const resolve = (setting: string | null) =>
      BridgeClient.resolveBaseUrl({
        setting,
        hubHost: PageConfig.getOption('hubHost'),
        hubPrefix: PageConfig.getOption('hubPrefix')
      });

    // Requests wait for the settings so that a configured URL is used from
    // the first request on; activation itself does not wait.
    const settings = settingRegistry
      ? settingRegistry.load(corePlugin.id)
      : Promise.resolve(null);
    const client = new BridgeClient({
      baseUrl: resolve(null),
      getToken: () => PageConfig.getToken(),
      trans,
      ready: settings
    });
    void settings
      .then(loaded => {
        if (!loaded) {
          return;
        }
        const apply = () => {
          const url = loaded.get('bridgeUrl').composite;
          const timeout = loaded.get('requestTimeout').composite;
          client.configure({
            baseUrl: resolve(typeof url === 'string' ? url : null),
            timeoutMs:
              typeof timeout === 'number'
                ? timeout * 1000
                : BridgeClient.DEFAULT_TIMEOUT_MS
          });
        };
        apply();
        loaded.changed.connect(apply);
      })
      .catch(reason => {
        console.error(
          `${corePlugin.id}: cannot load the settings, using defaults.`,
          reason
        );
      });
    return client;
  }
};

/**
 * Shows in the status bar who the bridge sees and whether versions match.
 */
const statusPlugin: JupyterFrontEndPlugin<void> = {
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

/**
 * The **HPC Bridge** left side panel.
 */
const panelPlugin: JupyterFrontEndPlugin<IBridgePanel> = {
  id: 'jupyterlab-hpc-bridge:panel',
  description:
    'Adds the HPC Bridge side panel, whose Cluster section lists partitions with free CPUs and GPUs; provides it so that other plugins add sections.',
  autoStart: true,
  provides: IBridgePanel,
  requires: [IBridgeClient],
  optional: [ISettingRegistry, ITranslator, ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    client: IBridgeClient,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ): IBridgePanel => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const clusterModel = new ClusterModel({ client });
    const panel = new BridgePanel({ clusterModel, trans });
    panel.disposed.connect(() => clusterModel.dispose());
    app.shell.add(panel, 'left', { rank: 900 });
    if (restorer) {
      restorer.add(panel, 'jupyterlab-hpc-bridge:panel');
    }

    if (settingRegistry) {
      void settingRegistry
        .load(panelPlugin.id)
        .then(settings => {
          const apply = () => {
            const interval = settings.get('refreshInterval').composite;
            if (typeof interval === 'number') {
              clusterModel.refreshInterval = interval;
            }
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => {
          console.error(
            `${panelPlugin.id}: cannot load the settings, using defaults.`,
            reason
          );
        });
    }

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

const plugins: JupyterFrontEndPlugin<unknown>[] = [
  corePlugin,
  statusPlugin,
  panelPlugin,
  jobsPlugin,
  storagePlugin,
  endpointsPlugin,
  coursePlugin,
  adminPlugin
];

export default plugins;
