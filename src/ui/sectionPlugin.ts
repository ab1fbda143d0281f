import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import type { TranslationBundle } from '@jupyterlab/translation';
import { IBridgePanel, type IBridgeClient } from '../tokens';
import { watchConfirmSetting, type IConfirmSetting } from './confirm';
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
    activate: (app, client, panel, trans, settingRegistry) => {
      const context = { app, confirm: watchConfirmSetting(settingRegistry) };
      const model = options.model(client, context);
      void app.restored.then(() => model.start());
      const section = new OptionalSectionWidget({
        model,
        trans,
        ...options.section(trans, context)
      });
      panel.addSection(section, { rank: options.rank });
    }
  });
}

export namespace optionalSectionPlugin {
  /** What a section may use of the application. */
  export interface IContext {
    app: JupyterFrontEnd;
    /** Whether destructive actions ask first. */
    confirm: IConfirmSetting;
  }

  export interface IOptions<M> {
    id: string;
    description: string;
    /** The section's place in the panel. */
    rank: number;
    model(client: IBridgeClient, context: IContext): M;
    section(
      trans: TranslationBundle,
      context: IContext
    ): Omit<OptionalSectionWidget.IOptions<M>, 'model' | 'trans'>;
  }
}
