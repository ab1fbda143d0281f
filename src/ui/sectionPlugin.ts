import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { IBridgeClient, IBridgePanel } from '../tokens';
import {
  IOptionalSectionModel,
  OptionalSectionWidget
} from './OptionalSection';
import { TRANSLATION_DOMAIN } from './translator';

/**
 * A plugin that adds an optional section (shown to some users only) to the
 * panel: its model starts once the application is restored.
 */
export function optionalSectionPlugin<
  M extends IOptionalSectionModel & { start(): Promise<void> }
>(options: optionalSectionPlugin.IOptions<M>): JupyterFrontEndPlugin<void> {
  return {
    id: options.id,
    description: options.description,
    autoStart: true,
    requires: [IBridgeClient],
    optional: [IBridgePanel, ITranslator],
    activate: (
      app: JupyterFrontEnd,
      client: IBridgeClient,
      panel: IBridgePanel | null,
      translator: ITranslator | null
    ): void => {
      if (!panel) {
        return;
      }
      const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
      const model = options.model(client);
      void app.restored.then(() => model.start());
      const section = new OptionalSectionWidget({
        model,
        trans,
        ...options.section(trans)
      });
      panel.addSection(section, { rank: options.rank });
    }
  };
}

export namespace optionalSectionPlugin {
  export interface IOptions<M> {
    id: string;
    description: string;
    /** The section's place in the panel. */
    rank: number;
    model(client: IBridgeClient): M;
    section(
      trans: TranslationBundle
    ): Omit<OptionalSectionWidget.IOptions<M>, 'model' | 'trans'>;
  }
}
