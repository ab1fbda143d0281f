import type { Tier } from '@hpc-bridge/server/contract';
import type { IDocumentManager } from '@jupyterlab/docmanager';
import { FileDialog } from '@jupyterlab/filebrowser';
import type { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import type { TierMounts } from './mounts';
import { dirName, drivePath, tierPathOf } from './paths';

/** Lets the user choose a file or folder of a tier; its tier path, or `null` if none. */
export type TierFilePicker = (
  tier: Tier,
  current: string,
  options?: { folder?: boolean }
) => Promise<string | null>;

/**
 * A picker on JupyterLab's own file dialog, opened in the tier's drive
 * (`scratch:`) at the folder of the current path. The drive is registered
 * first, so a tier that is not mounted can be browsed too.
 */
export function tierFilePicker(options: {
  manager: IDocumentManager;
  mounts: TierMounts;
  trans: TranslationBundle;
  translator?: ITranslator;
}): TierFilePicker {
  const { manager, mounts, trans, translator } = options;
  return async (tier, current, pickOptions = {}) => {
    mounts.drive(tier);
    const dialogOptions = {
      manager,
      translator,
      title: trans.__('Choose in %1 (%2:)', tier.title, tier.name),
      defaultPath: drivePath(tier.name, dirName(current))
    };
    const result = pickOptions.folder
      ? await FileDialog.getExistingDirectory(dialogOptions)
      : await FileDialog.getOpenFiles(dialogOptions);
    const chosen = result.button.accept ? result.value?.[0] : undefined;
    if (!chosen) {
      return null;
    }
    const path = tierPathOf(tier.name, chosen.path);
    return path ? path : null;
  };
}
