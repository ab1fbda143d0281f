import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { CommandIDs } from '../commands';
import { hpcBridgeIcon } from '../icons';
import {
  TIER_FILE_ARGS,
  TIER_FILE_SELECTOR,
  tierTarget
} from '../storage/tierSelection';
import { IBridgeClient } from '../tokens';
import { TRANSLATION_DOMAIN } from '../ui/translator';
import { LineageApi } from './api';

/**
 * Lineage: "Show lineage" on an object of a tier (its file browser's context
 * menu, or a command with the tier and path) opens what made it, back to the
 * raw inputs, with "Re-run with the same inputs".
 */
export const lineagePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-hpc-bridge:lineage',
  description:
    'Shows the lineage of an object of a storage tier: the job, notebook and parameters that made it and the inputs it read, back to the raw ones; re-runs the job with the same inputs.',
  autoStart: true,
  requires: [IBridgeClient],
  optional: [IFileBrowserFactory, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: IBridgeClient,
    browsers: IFileBrowserFactory | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const api = new LineageApi(client);

    app.commands.addCommand(CommandIDs.showLineage, {
      label: trans.__('Show Lineage'),
      caption: trans.__(
        'What made this object: the job, its notebook and parameters, and the inputs it read'
      ),
      icon: hpcBridgeIcon,
      describedBy: TIER_FILE_ARGS,
      execute: async args => {
        const target = tierTarget(app, browsers, args);
        if (!target) {
          return;
        }
        const [{ showLineage }, { LineageModel }] = await Promise.all([
          import('./LineageDialog'),
          import('./LineageModel')
        ]);
        await showLineage({
          trans,
          model: new LineageModel({ api, ...target }),
          onOpenJob: id => void app.commands.execute(CommandIDs.openJob, { id })
        });
      }
    });

    app.contextMenu.addItem({
      command: CommandIDs.showLineage,
      selector: TIER_FILE_SELECTOR,
      rank: 74
    });
  }
};
