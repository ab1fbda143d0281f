import type { Trigger } from '@hpc-bridge/server/contract';
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { addIcon, refreshIcon } from '@jupyterlab/ui-components';
import { CommandIDs, NO_ARGS } from '../commands';
import { dirName } from '../storage/paths';
import { IBridgeClient, IBridgePanel, ITierFilePicker } from '../tokens';
import { confirmDestructive, watchConfirmSetting } from '../ui/confirm';
import { SectionWiring } from '../ui/sectionWiring';
import { TRANSLATION_DOMAIN } from '../ui/translator';
import { PipelinesApi } from './api';
import type { PipelinesDialogs } from './PipelinesDialogs';
// The Pipelines section must exist when the panel opens: loaded with the plugin.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { PipelinesModel } from './PipelinesModel';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { PipelinesSectionWidget } from './PipelinesSection';

/** JupyterLab's command that reveals a path in the file browser of its drive. */
const GO_TO_PATH = 'filebrowser:go-to-path';

/**
 * Pipelines: the Pipelines section of the panel (triggers, their runs, pause,
 * dry run, history, delete) and the new trigger dialog.
 */
export const pipelinesPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-hpc-bridge:pipelines',
  description:
    'Triggers of the HPC Bridge: run a notebook, copy to a tier or roll an endpoint when a file lands, a job ends or a schedule comes round; their runs traced to jobs and objects.',
  autoStart: true,
  requires: [IBridgeClient],
  optional: [
    IBridgePanel,
    ICommandPalette,
    ISettingRegistry,
    ITranslator,
    IDocumentManager,
    ITierFilePicker
  ],
  activate: (
    app: JupyterFrontEnd,
    client: IBridgeClient,
    panel: IBridgePanel | null,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    docManager: IDocumentManager | null,
    tierPicker: ITierFilePicker | null
  ): void => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const confirmSetting = watchConfirmSetting(settingRegistry);
    const api = new PipelinesApi(client);
    const model = new PipelinesModel({ api });
    SectionWiring.start(app, client, model);

    const dialogs = async () =>
      (await import('./PipelinesDialogs')).PipelinesDialogs;
    const report = (title: string) => SectionWiring.report(title);

    const browse: PipelinesDialogs.Browse = async (what, tier, current) => {
      if (tier) {
        return tierPicker
          ? tierPicker.pick(tier, current, { folder: what === 'folder' })
          : null;
      }
      if (!docManager) {
        return null;
      }
      const { FileDialog } = await import('@jupyterlab/filebrowser');
      const result = await FileDialog.getOpenFiles({
        manager: docManager,
        translator: translator ?? undefined,
        title: trans.__('Choose the notebook to run'),
        defaultPath: dirName(current),
        filter: item =>
          item.type === 'notebook' || item.type === 'directory' ? {} : null
      });
      const chosen = result.button.accept ? result.value?.[0] : undefined;
      return chosen ? chosen.path : null;
    };

    app.commands.addCommand(CommandIDs.createTrigger, {
      label: trans.__('Create Trigger…'),
      caption: trans.__(
        'Run a notebook, copy to a tier or roll an endpoint when a file lands, a job ends or on a schedule'
      ),
      icon: addIcon,
      describedBy: NO_ARGS,
      execute: async () => {
        try {
          const { createTrigger } = await import('./createTrigger');
          const created = await createTrigger({
            api,
            model,
            contents: app.serviceManager.contents,
            trans,
            browse
          });
          if (created && panel) {
            app.shell.activateById(panel.id);
          }
        } catch (reason) {
          report(trans.__('Cannot create a trigger'))(reason);
        }
      }
    });

    app.commands.addCommand(CommandIDs.refreshPipelines, {
      label: trans.__('Refresh Pipelines'),
      caption: trans.__('Ask the HPC Bridge for the triggers and their runs'),
      icon: refreshIcon,
      describedBy: NO_ARGS,
      execute: () => model.refresh()
    });

    const runActions = {
      onOpenJob: (id: string) =>
        void app.commands.execute(CommandIDs.openJob, { id }),
      onOpenObject: (uri: string) => {
        const object = PipelinesModel.objectOf(uri);
        if (!object) {
          return;
        }
        void app.commands
          .execute(CommandIDs.mountTier, { tier: object.tier })
          .then(() => app.commands.execute(GO_TO_PATH, { path: uri }))
          .catch(report(trans.__('Cannot show %1', uri)));
      },
      onShowLineage: (uri: string) => {
        const object = PipelinesModel.objectOf(uri);
        if (object) {
          void app.commands.execute(CommandIDs.showLineage, object);
        }
      }
    };

    const onDelete = (trigger: Trigger) =>
      void (async () => {
        const sure = await confirmDestructive(confirmSetting, {
          trans,
          title: trans.__('Delete trigger %1?', trigger.name),
          body: trans.__(
            'It stops watching; jobs its runs submitted keep running and their results stay. This cannot be undone.'
          ),
          action: trans.__('Delete')
        });
        if (sure) {
          await model.deleteTrigger(trigger.id);
        }
      })().catch(report(trans.__('Cannot delete %1', trigger.name)));

    if (panel) {
      panel.addSection(
        new PipelinesSectionWidget({
          model,
          trans,
          actions: {
            ...runActions,
            onCreate: () => void app.commands.execute(CommandIDs.createTrigger),
            onRetry: () => model.refresh(),
            onTogglePause: trigger =>
              void model
                .setPaused(trigger.id, trigger.state === 'active')
                .catch(report(trans.__('Cannot change %1', trigger.name))),
            onDryRun: trigger =>
              void model
                .dryRun(trigger.id)
                .then(async result =>
                  (await dialogs()).showDryRun(trans, trigger, result)
                )
                .catch(report(trans.__('No dry run of %1', trigger.name))),
            onHistory: trigger =>
              void (async () => {
                const { RunHistoryModel } = await import('./RunHistoryModel');
                await (
                  await dialogs()
                ).showRunHistory(
                  trans,
                  trigger,
                  new RunHistoryModel({ api, triggerId: trigger.id }),
                  runActions
                );
              })(),
            onDelete
          }
        }),
        { rank: 420 }
      );
    }

    SectionWiring.addToPalette(palette, trans, [
      CommandIDs.createTrigger,
      CommandIDs.refreshPipelines
    ]);
  }
};
