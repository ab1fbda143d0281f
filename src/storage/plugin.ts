import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Clipboard, ICommandPalette, InputDialog } from '@jupyterlab/apputils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import {
  copyIcon,
  fileUploadIcon,
  linkIcon,
  refreshIcon
} from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import { CommandIDs } from '../commands';
import { hpcBridgeIcon } from '../icons';
// The Storage section must exist when the panel opens: loaded with the plugin.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { StorageModel } from './StorageModel';
import { IBridgeClient, IBridgePanel } from '../tokens';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { StorageSection, StorageSectionWidget } from './StorageSection';
import { TRANSLATION_DOMAIN } from '../ui/translator';
import { StorageApi, type Storage } from './api';
// Tier browsers are restored at start from the settings: loaded with the plugin.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { TierMounts } from './mounts';

const TIER_ARGS = {
  type: 'object',
  properties: {
    tier: { type: 'string', description: 'The tier name, e.g. "scratch"' },
    path: {
      type: 'string',
      description:
        'A path inside the tier; defaults to the selection in its file browser'
    }
  }
} as const;

/**
 * Storage tiers: the Storage section of the panel, a JupyterLab drive and a
 * file browser per mounted tier, uploads with progress, share links, code
 * access and copies between tiers.
 */
export const storagePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-hpc-bridge:storage',
  description:
    'Mounts the HPC Bridge storage tiers (scratch, project, archive, public, sensitive) as JupyterLab drives with their own file browsers; uploads large files with progress, shares public files by link and copies between tiers.',
  autoStart: true,
  requires: [IBridgeClient],
  optional: [
    IBridgePanel,
    IFileBrowserFactory,
    ICommandPalette,
    ISettingRegistry,
    ITranslator
  ],
  activate: (
    app: JupyterFrontEnd,
    client: IBridgeClient,
    panel: IBridgePanel | null,
    browsers: IFileBrowserFactory | null,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
    const api = new StorageApi(client);
    const model = new StorageModel({ api });
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
            const mounted = loaded.get('mounted').composite;
            model.restoreMounted(
              Array.isArray(mounted) ? mounted.map(String) : []
            );
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

    let lastMounted: string | null = null;
    model.mountedChanged.connect((_, mounted) => {
      syncMounts(lastMounted);
      void settings?.set('mounted', [...mounted]).catch(reason => {
        console.error(
          `${storagePlugin.id}: cannot save the mounted tiers.`,
          reason
        );
      });
    });

    const dialogs = async () =>
      (await import('./StorageDialogs')).StorageDialogs;

    const tierOf = (name: unknown): Storage.Tier | null =>
      typeof name === 'string' ? model.tier(name) : null;

    /** The tier and path selected in the current tier file browser. */
    const selection = (): { tier: Storage.Tier; path: string } | null => {
      const browser = browsers?.tracker.currentWidget ?? null;
      const name = mounts?.tierOf(browser) ?? null;
      const tier = tierOf(name);
      if (!browser || !tier) {
        return null;
      }
      const contents = app.serviceManager.contents;
      const item = browser.selectedItems().next();
      const path = item && !item.done ? item.value.path : browser.model.path;
      return { tier, path: contents.localPath(path) };
    };

    /** The tier and path of a command's arguments, else of the selection. */
    const target = (
      args: Record<string, unknown>
    ): { tier: Storage.Tier; path: string } | null => {
      const tier = tierOf(args['tier']);
      const path = typeof args['path'] === 'string' ? args['path'] : null;
      const selected = selection();
      if (tier) {
        return {
          tier,
          path: path ?? (selected?.tier === tier ? selected.path : '')
        };
      }
      return selected;
    };

    /** A command on the tier and path of its arguments or of the selection. */
    const addTierCommand = (
      id: string,
      options: Omit<CommandRegistry.ICommandOptions, 'execute'> & {
        act: (
          chosen: { tier: Storage.Tier; path: string },
          args: Record<string, unknown>
        ) => Promise<void>;
      }
    ) => {
      const { act, ...rest } = options;
      app.commands.addCommand(id, {
        ...rest,
        describedBy: { args: TIER_ARGS },
        execute: async args => {
          const chosen = target(args);
          if (chosen) {
            await act(chosen, args);
          }
        }
      });
    };

    const report = (title: string) => (error: unknown) => {
      void import('@jupyterlab/apputils').then(({ showErrorMessage }) =>
        showErrorMessage(
          title,
          error instanceof Error ? error.message : String(error)
        )
      );
    };

    const chooseFiles = (): Promise<File[]> =>
      new Promise(resolve => {
        const input = document.createElement('input');
        input.type = 'file';
        input.multiple = true;
        input.className = 'jp-hpc-TierUpload-input';
        input.addEventListener('change', () => {
          resolve(Array.from(input.files ?? []));
          input.remove();
        });
        input.addEventListener('cancel', () => {
          resolve([]);
          input.remove();
        });
        document.body.appendChild(input);
        input.click();
      });

    app.commands.addCommand(CommandIDs.mountTier, {
      label: args =>
        args['unmount']
          ? trans.__('Unmount Storage Tier')
          : trans.__('Mount Storage Tier'),
      caption: trans.__(
        'Show a storage tier of the HPC Bridge in a file browser of its own (TIER:)'
      ),
      icon: hpcBridgeIcon,
      describedBy: {
        args: {
          type: 'object',
          properties: {
            tier: TIER_ARGS.properties.tier,
            unmount: {
              type: 'boolean',
              description: 'Unmount instead of mount'
            }
          },
          required: ['tier']
        }
      },
      execute: args => {
        const name = String(args['tier'] ?? '');
        if (args['unmount']) {
          model.unmount(name);
          return;
        }
        const tier = model.tier(name);
        if (!tier) {
          report(trans.__('Cannot mount %1', name))(
            new Error(trans.__('There is no storage tier "%1" for you.', name))
          );
          return;
        }
        lastMounted = name;
        if (model.mounted.has(name)) {
          mounts?.mount(tier, { activate: true });
        } else {
          model.mount(name);
        }
      }
    });

    addTierCommand(CommandIDs.uploadToTier, {
      label: trans.__('Upload to Storage Tier…'),
      caption: trans.__(
        'Upload files of any size to a storage tier, straight to S3 when possible, with a progress bar'
      ),
      icon: fileUploadIcon,
      act: async ({ tier }, args) => {
        const browser = mounts?.browser(tier.name);
        const current = browser
          ? app.serviceManager.contents.localPath(browser.model.path)
          : '';
        const fallback = current || (tier.groups?.[0] ?? '');
        const folder =
          typeof args['path'] === 'string'
            ? args['path']
            : await (await dialogs()).askFolder(trans, tier, fallback);
        if (folder === null) {
          return;
        }
        const files = await chooseFiles();
        if (panel && files.length > 0) {
          app.shell.activateById(panel.id);
        }
        await Promise.all(
          files.map(file =>
            model
              .upload(tier.name, file, folder)
              .then(() => browser?.model.refresh())
              .catch(() => undefined)
          )
        );
      }
    });

    addTierCommand(CommandIDs.shareLink, {
      label: trans.__('Share Link…'),
      caption: trans.__(
        'Create an anonymous link with an expiry to a file of a public tier'
      ),
      icon: linkIcon,
      isVisible: () => {
        const selected = selection();
        return selected === null || selected.tier.links;
      },
      act: async chosen => {
        const refusal = StorageSection.linkRefusal(chosen.tier, trans);
        if (refusal !== null) {
          report(trans.__('No share link'))(new Error(refusal));
          return;
        }
        const input = await (
          await dialogs()
        ).askShareLink(trans, chosen.tier, chosen.path);
        if (!input) {
          return;
        }
        try {
          const link = await model.createLink(
            chosen.tier.name,
            input.path,
            input.expiresInSeconds
          );
          await (await dialogs()).showLink(trans, link);
        } catch (error) {
          report(trans.__('Cannot create the link'))(error);
        }
      }
    });

    addTierCommand(CommandIDs.useInCode, {
      label: trans.__('Use in Code…'),
      caption: trans.__(
        'Snippets (boto3, fsspec, pandas, curl) with a short-lived URL for a kernel or a job'
      ),
      icon: hpcBridgeIcon,
      isEnabled: () => selection()?.tier.codeAccess ?? true,
      act: async chosen => {
        let path = chosen.path;
        if (!path) {
          const asked = await InputDialog.getText({
            title: trans.__('Use a file of %1 in code', chosen.tier.title),
            label: trans.__('File in %1', chosen.tier.name),
            okLabel: trans.__('Show snippets')
          });
          path = asked.button.accept ? (asked.value ?? '').trim() : '';
        }
        if (!path) {
          return;
        }
        try {
          const access = await model.codeAccess(chosen.tier.name, path);
          await (await dialogs()).showCodeAccess(trans, access);
        } catch (error) {
          report(trans.__('No code access'))(error);
        }
      }
    });

    addTierCommand(CommandIDs.copyToTier, {
      label: trans.__('Copy to Tier…'),
      caption: trans.__(
        'Copy a file or folder to another storage tier on the server side, with progress'
      ),
      icon: copyIcon,
      act: async chosen => {
        const input = await (
          await dialogs()
        ).askCopy(trans, chosen.tier, model.tiers, chosen.path);
        if (!input) {
          return;
        }
        if (panel) {
          app.shell.activateById(panel.id);
        }
        await model
          .copy(
            { tier: chosen.tier.name, path: input.path },
            { tier: input.toTier, path: input.to }
          )
          .then(() => mounts?.browser(input.toTier)?.model.refresh())
          .catch(() => undefined);
      }
    });

    app.commands.addCommand(CommandIDs.refreshStorage, {
      label: trans.__('Refresh Storage Tiers'),
      caption: trans.__('Ask the HPC Bridge for the tiers, usage and links'),
      icon: refreshIcon,
      describedBy: { args: { type: 'object', properties: {} } },
      execute: () => model.refresh()
    });

    const selector = '.jp-hpc-TierBrowser .jp-DirListing-item';
    app.contextMenu.addItem({ type: 'separator', selector, rank: 70 });
    for (const [command, rank] of [
      [CommandIDs.shareLink, 71],
      [CommandIDs.useInCode, 72],
      [CommandIDs.copyToTier, 73]
    ] as const) {
      app.contextMenu.addItem({ command, selector, rank });
    }

    /** A section action: runs `command` on the tier. */
    const onTier =
      (command: string, args: Record<string, boolean> = {}) =>
      (tier: Storage.Tier) =>
        void app.commands.execute(command, { ...args, tier: tier.name });

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
              void model
                .revokeLink(link)
                .catch(report(trans.__('Cannot revoke the link'))),
            onCopyLink: link => Clipboard.copyToSystem(link.url),
            onCancelTransfer: id => model.cancel(id),
            onDismissTransfer: id => model.dismiss(id)
          }
        }),
        { rank: 300 }
      );
    }

    if (palette) {
      const category = trans.__('HPC Bridge');
      for (const command of [
        CommandIDs.uploadToTier,
        CommandIDs.copyToTier,
        CommandIDs.refreshStorage
      ]) {
        palette.addItem({ command, category });
      }
    }
  }
};
