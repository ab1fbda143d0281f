import type { Tier } from '@hpc-bridge/server/contract';
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Clipboard, ICommandPalette } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { CommandIDs } from '../commands';
import { IBridgeClient, IBridgePanel, ITierFilePicker } from '../tokens';
import { confirmDestructive, watchConfirmSetting } from '../ui/confirm';
import { TRANSLATION_DOMAIN } from '../ui/translator';
import { StorageApi } from './api';
// The commands are registered at activation.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { registerStorageCommands, reportError } from './commands';
import { tierFilePicker } from './filePicker';
// Tier browsers are restored at start from the settings: loaded with the plugin.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { TierMounts } from './mounts';
// The Storage section must exist when the panel opens: loaded with the plugin.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { StorageModel } from './StorageModel';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { StorageSectionWidget } from './StorageSection';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { TransferNotifications } from './TransferNotifications';

/**
 * Storage tiers: the Storage section of the panel, a JupyterLab drive and a
 * file browser per mounted tier, uploads with progress, share links, code
 * access and copies between tiers.
 */
export const storagePlugin: JupyterFrontEndPlugin<ITierFilePicker> = {
  id: 'jupyterlab-hpc-bridge:storage',
  description:
    'Mounts the HPC Bridge storage tiers (scratch, project, archive, public, sensitive) as JupyterLab drives with their own file browsers; uploads large files with progress, shares public files by link and copies between tiers.',
  autoStart: true,
  provides: ITierFilePicker,
  requires: [IBridgeClient],
  optional: [
    IBridgePanel,
    IFileBrowserFactory,
    ICommandPalette,
    ISettingRegistry,
    ITranslator,
    IDocumentManager
  ],
  activate: (
    app: JupyterFrontEnd,
    client: IBridgeClient,
    panel: IBridgePanel | null,
    browsers: IFileBrowserFactory | null,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    docManager: IDocumentManager | null
  ): ITierFilePicker => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const api = new StorageApi(client);
    const model = new StorageModel({ api });
    // Lives as long as the application: uploads and copies report in the notifications.
    new TransferNotifications(model, trans);
    const mounts = browsers
      ? new TierMounts({
          app,
          factory: browsers,
          api,
          trans,
          translator: translator ?? undefined
        })
      : null;

    /** Mount the tiers of the mounted set that the bridge lists. */
    const syncMounts = (activate: string | null) => {
      if (!mounts) {
        return;
      }
      for (const tier of model.tiers) {
        if (model.mounted.has(tier.name)) {
          mounts.mount(tier, { activate: tier.name === activate });
        } else {
          mounts.unmount(tier.name);
        }
      }
    };

    let settings: ISettingRegistry.ISettings | null = null;
    const settingsLoaded = settingRegistry
      ? settingRegistry
          .load(storagePlugin.id)
          .then(loaded => {
            settings = loaded;
            const setting = loaded.get('mounted').composite;
            const mounted = Array.isArray(setting) ? setting.map(String) : [];
            mounts?.registerDrives(mounted);
            model.restoreMounted(mounted);
          })
          .catch(reason => {
            console.error(
              `${storagePlugin.id}: cannot load the settings, using defaults.`,
              reason
            );
          })
      : Promise.resolve();
    void Promise.all([app.restored, settingsLoaded])
      .then(() => model.refresh())
      .then(() => syncMounts(null));

    const mounting: { last: string | null } = { last: null };
    model.mountedChanged.connect((_, mounted) => {
      syncMounts(mounting.last);
      void settings?.set('mounted', [...mounted]).catch(reason => {
        console.error(
          `${storagePlugin.id}: cannot save the mounted tiers.`,
          reason
        );
      });
    });

    const browse =
      mounts && docManager
        ? tierFilePicker({
            manager: docManager,
            mounts,
            trans,
            translator: translator ?? undefined
          })
        : null;
    registerStorageCommands(app, {
      model,
      mounts,
      browsers,
      panel,
      palette,
      trans,
      mounting,
      browse
    });

    /** A section action: runs `command` on the tier. */
    const onTier =
      (command: string, args: Record<string, boolean> = {}) =>
      (tier: Tier) =>
        void app.commands.execute(command, { ...args, tier: tier.name });

    const confirmSetting = watchConfirmSetting(settingRegistry);
    if (panel) {
      panel.addSection(
        new StorageSectionWidget({
          model,
          trans,
          actions: {
            onMount: onTier(CommandIDs.mountTier),
            onUnmount: onTier(CommandIDs.mountTier, { unmount: true }),
            onUpload: onTier(CommandIDs.uploadToTier),
            onShareLink: onTier(CommandIDs.shareLink),
            onUseInCode: onTier(CommandIDs.useInCode),
            onCopyToTier: onTier(CommandIDs.copyToTier),
            onRevokeLink: link =>
              void confirmDestructive(confirmSetting, {
                trans,
                title: trans.__('Revoke the link to %1?', link.path),
                body: trans.__(
                  'Whoever has the link can no longer download the file. This cannot be undone.'
                ),
                action: trans.__('Revoke')
              })
                .then(sure => (sure ? model.revokeLink(link) : undefined))
                .catch(reportError(trans.__('Cannot revoke the link'))),
            onCopyLink: link => Clipboard.copyToSystem(link.url),
            onCancelTransfer: id => model.cancel(id),
            onDismissTransfer: id => model.dismiss(id)
          }
        }),
        { rank: 300 }
      );
    }

    return {
      pick: async (name, current, options) => {
        const tier = model.tier(name);
        return tier && browse ? browse(tier, current, options) : null;
      }
    };
  }
};
