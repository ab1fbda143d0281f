import type { ISettingRegistry } from '@jupyterlab/settingregistry';

/**
 * Loads a plugin's settings and applies them now and after every change; when
 * they cannot be loaded, the defaults stay and the reason is logged.
 */
export function watchSettings(
  registry: ISettingRegistry | null,
  pluginId: string,
  apply: (settings: ISettingRegistry.ISettings) => void
): void {
  if (!registry) {
    return;
  }
  void registry
    .load(pluginId)
    .then(settings => {
      apply(settings);
      settings.changed.connect(() => apply(settings));
    })
    .catch(reason => {
      console.error(
        `${pluginId}: cannot load the settings, using defaults.`,
        reason
      );
    });
}
