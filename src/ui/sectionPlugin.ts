import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { LabIcon } from '@jupyterlab/ui-components';
import React from 'react';
import { NO_ARGS } from '../commands';
import { IBridgePanel, type IBridgeClient } from '../tokens';
import { watchConfirmSetting, type IConfirmSetting } from './confirm';
import { hostedPlugin } from './hostedPlugin';
import { ModelPage } from './ModelPage';
// Not a plugin module but the helper plugins are built with: the section widget is made
// when the plugin activates, so it is needed at load.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import {
  IOptionalSectionModel,
  OptionalSectionWidget
} from './OptionalSection';
import { addPageCommand } from './pageCommand';

/**
 * A plugin that adds an optional section (shown to some users only) to the
 * panel: its model starts once the application is restored. With `page`, the
 * same view also opens as a main-area page (from the section and the palette),
 * restored with the workspace.
 */
export function optionalSectionPlugin<
  M extends IOptionalSectionModel &
    ModelPage.IModel & {
      start(): Promise<void>;
    }
>(options: optionalSectionPlugin.IOptions<M>): JupyterFrontEndPlugin<void> {
  return hostedPlugin({
    id: options.id,
    description: options.description,
    host: IBridgePanel,
    activate: (app, client, panel, trans, shell) => {
      const { palette, restorer } = shell;
      const context = {
        app,
        confirm: watchConfirmSetting(shell.settingRegistry)
      };
      const model = options.model(client, context);
      void app.restored.then(() => model.start());
      const section = options.section(trans, context);
      const page = options.page?.(trans);
      if (page) {
        let shown = section.isShown(model);
        model.changed.connect(() => {
          if (shown !== section.isShown(model)) {
            shown = !shown;
            app.commands.notifyCommandChanged(page.command);
          }
        });
        addPageCommand<ModelPage<M>>(app, {
          command: page.command,
          namespace: page.namespace,
          restorer,
          commandOptions: {
            label: page.label,
            caption: page.caption,
            icon: page.icon,
            describedBy: NO_ARGS,
            isVisible: () => section.isShown(model)
          },
          id: () => page.id,
          args: () => ({}),
          create: () => {
            // Its own model: it loads while the page is shown, whatever the section does.
            const pageModel = options.model(client, context);
            void pageModel.start();
            return new ModelPage({
              model: pageModel,
              trans,
              id: page.id,
              className: page.className,
              label: page.title,
              caption: page.caption,
              icon: page.icon,
              render: m =>
                section.isShown(m)
                  ? section.render(m)
                  : React.createElement(
                      'p',
                      { className: 'jp-hpc-Section-empty' },
                      page.unavailable
                    )
            });
          }
        });
        palette?.addItem({
          command: page.command,
          category: trans.__('HPC Bridge')
        });
      }
      panel.addSection(
        new OptionalSectionWidget({
          model,
          trans,
          ...section,
          openPage: page
            ? {
                label: page.caption,
                open: () => void app.commands.execute(page.command)
              }
            : undefined
        }),
        { rank: options.rank }
      );
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
    ): Omit<OptionalSectionWidget.IOptions<M>, 'model' | 'trans' | 'openPage'>;
    /** The section's view as a main-area page too. */
    page?(trans: TranslationBundle): IPage;
  }

  export interface IPage {
    /** The command that opens it, e.g. `hpc-bridge:open-admin`. */
    command: string;
    /** The workspace namespace of the page. */
    namespace: string;
    /** The page's widget id. */
    id: string;
    className: string;
    /** The command's label (already translated). */
    label: string;
    /** The page's tab title. */
    title: string;
    caption: string;
    icon: LabIcon;
    /** What the page says to a user the section is not shown to. */
    unavailable: string;
  }
}
