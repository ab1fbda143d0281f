import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { ISettingRegistry } from '@jupyterlab/settingregistry';
import type { TranslationBundle } from '@jupyterlab/translation';
import { watchSettings } from './settings';

/** The panel's settings plugin, which holds `confirmDestructiveActions`. */
const PANEL_SETTINGS = 'jupyterlab-hpc-bridge:panel';

/** Whether destructive actions ask first (`confirmDestructiveActions`). */
export interface IConfirmSetting {
  readonly enabled: boolean;
}

/** The `confirmDestructiveActions` setting, followed as the user changes it. */
export function watchConfirmSetting(
  registry: ISettingRegistry | null
): IConfirmSetting {
  const setting = { enabled: true };
  watchSettings(registry, PANEL_SETTINGS, settings => {
    setting.enabled =
      settings.get('confirmDestructiveActions').composite !== false;
  });
  return setting;
}

/**
 * Asks before an action that cannot be undone, with Cancel and a warn button
 * named after the action; `true` at once when the setting turns the question off.
 */
export async function confirmDestructive(
  setting: IConfirmSetting,
  options: {
    trans: TranslationBundle;
    title: string;
    body: string;
    /** The warn button's label, e.g. "Cancel job". */
    action: string;
  }
): Promise<boolean> {
  if (!setting.enabled) {
    return true;
  }
  const { trans } = options;
  const result = await showDialog({
    title: options.title,
    body: options.body,
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.warnButton({ label: options.action })
    ],
    defaultButton: 0
  });
  return result.button.accept;
}
