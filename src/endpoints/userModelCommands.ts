import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import type { TranslationBundle } from '@jupyterlab/translation';
import { CommandIDs } from '../commands';
import { hpcBridgeIcon } from '../icons';
import {
  TIER_FILE_ARGS,
  TIER_FILE_SELECTOR,
  tierTarget
} from '../storage/tierSelection';
import type { UserModelsModel } from './UserModelsModel';

/**
 * "Register as Model…" on a file of a tier (its file browser's context menu,
 * or the command with a tier and path): registers the file as one of the
 * user's models (`POST /api/v1/models`).
 */
export function addUserModelCommands(
  app: JupyterFrontEnd,
  options: {
    trans: TranslationBundle;
    model: UserModelsModel;
    browsers: IFileBrowserFactory | null;
    /** After a model is registered (e.g. show the Endpoints section). */
    onRegistered?: () => void;
  }
): void {
  const { trans, model, browsers } = options;
  const target = (args: Record<string, unknown>) =>
    tierTarget(app, browsers, args);
  app.commands.addCommand(CommandIDs.registerModel, {
    label: trans.__('Register as Model…'),
    caption: trans.__(
      'Register this model file (e.g. a GGUF a job wrote) as one of your models, to serve it from an endpoint'
    ),
    icon: hpcBridgeIcon,
    isEnabled: args => {
      const chosen = target(args);
      return chosen !== null && model.registrable(chosen.path);
    },
    describedBy: TIER_FILE_ARGS,
    execute: async args => {
      const chosen = target(args);
      if (!chosen) {
        return;
      }
      const { registerModel } = await import('./RegisterModelDialog');
      if (await registerModel(trans, model, chosen.tier, chosen.path)) {
        options.onRegistered?.();
      }
    }
  });
  app.contextMenu.addItem({
    command: CommandIDs.registerModel,
    selector: TIER_FILE_SELECTOR,
    rank: 75
  });
}
