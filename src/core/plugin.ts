import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { IBridgeClient } from '../tokens';
import { TRANSLATION_DOMAIN } from '../ui/translator';
// The client is what this plugin provides: activation needs it at once.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { BridgeClient } from './client';

/**
 * Finds the bridge, authenticates with the user's hub token and provides
 * `IBridgeClient`.
 */
export const corePlugin: JupyterFrontEndPlugin<IBridgeClient> = {
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
