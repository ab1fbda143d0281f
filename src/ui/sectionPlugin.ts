import type { JupyterFrontEndPlugin } from '@jupyterlab/application';
import type { TranslationBundle } from '@jupyterlab/translation';
import { IBridgePanel, type IBridgeClient } from '../tokens';
import { hostedPlugin } from './hostedPlugin';
import {
  IOptionalSectionModel,
  OptionalSectionWidget
} from './OptionalSection';

/**
 * A plugin that adds an optional section (shown to some users only) to the
 * panel: its model starts once the application is restored.
 */
export function optionalSectionPlugin<
  M extends IOptionalSectionModel & { start(): Promise<void> }
>(options: optionalSectionPlugin.IOptions<M>): JupyterFrontEndPlugin<void> {
  return hostedPlugin({
    id: options.id,
    description: options.description,
    host: IBridgePanel,
    activate: (app, client, panel, trans) => {
      const model = options.model(client);
      void app.restored.then(() => model.start());
      const section = new OptionalSectionWidget({
        model,
        trans,
        ...options.section(trans)
      });
      panel.addSection(section, { rank: options.rank });
    }
  });
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
