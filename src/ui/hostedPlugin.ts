import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import type { Token } from '@lumino/coreutils';
import { IBridgeClient } from '../tokens';
import { TRANSLATION_DOMAIN } from './translator';

/**
 * A plugin that shows something of the bridge in `host` (the panel, the
 * status bar); without that host it does nothing.
 */
export function hostedPlugin<H>(options: {
  id: string;
  description: string;
  host: Token<H>;
  activate: (
    app: JupyterFrontEnd,
    client: IBridgeClient,
    host: H,
    trans: TranslationBundle,
    shell: hostedPlugin.IShell
  ) => void;
}): JupyterFrontEndPlugin<void> {
  return {
    id: options.id,
    description: options.description,
    autoStart: true,
    requires: [IBridgeClient],
    optional: [
      options.host,
      ITranslator,
      ICommandPalette,
      ILayoutRestorer,
      ISettingRegistry
    ],
    // The host's type is the caller's `H`, which the rule cannot follow.
    // eslint-disable-next-line jupyter/plugin-activation-args
    activate: (
      app: JupyterFrontEnd,
      client: IBridgeClient,
      host: H | null,
      translator: ITranslator | null,
      palette: ICommandPalette | null,
      restorer: ILayoutRestorer | null,
      settingRegistry: ISettingRegistry | null
    ): void => {
      if (!host) {
        return;
      }
      const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
      options.activate(app, client, host, trans, {
        palette,
        restorer,
        settingRegistry
      });
    }
  };
}

export namespace hostedPlugin {
  /** The parts of JupyterLab a hosted plugin may add to, when present. */
  export interface IShell {
    palette: ICommandPalette | null;
    restorer: ILayoutRestorer | null;
    settingRegistry: ISettingRegistry | null;
  }
}
