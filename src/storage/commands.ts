import type { Tier } from '@hpc-bridge/server/contract';
import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { ICommandPalette } from '@jupyterlab/apputils';
import type { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  copyIcon,
  fileUploadIcon,
  linkIcon,
  refreshIcon
} from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import { CommandIDs } from '../commands';
import { hpcBridgeIcon } from '../icons';
import type { IBridgePanel } from '../tokens';
import type { TierFilePicker } from './filePicker';
import type { TierMounts } from './mounts';
import { StorageSection } from './StorageSection';
import type { StorageModel } from './StorageModel';

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

/** Shows an error in a dialog titled `title`. */
export function reportError(title: string): (error: unknown) => void {
  return error => {
    void import('@jupyterlab/apputils').then(({ showErrorMessage }) =>
      showErrorMessage(
        title,
        error instanceof Error ? error.message : String(error)
      )
    );
  };
}

/**
 * Registers the storage commands (mount, upload, share link, use in code, copy,
 * refresh), the tier browsers' context menu and the palette items.
 */
export function registerStorageCommands(
  app: JupyterFrontEnd,
  options: {
    model: StorageModel;
    mounts: TierMounts | null;
    browsers: IFileBrowserFactory | null;
    panel: IBridgePanel | null;
    palette: ICommandPalette | null;
    trans: TranslationBundle;
    /** The tier the mount command asked for last (its browser is activated once mounted). */
    mounting: { last: string | null };
    /** Chooses a file of a tier in JupyterLab's file dialog; `null` without one. */
    browse: TierFilePicker | null;
  }
): void {
  const { model, mounts, browsers, panel, palette, trans, mounting } = options;
  const dialogs = async () => (await import('./StorageDialogs')).StorageDialogs;

  const tierOf = (name: unknown): Tier | null =>
    typeof name === 'string' ? model.tier(name) : null;

  /** The tier and path selected in the current tier file browser. */
  const selection = (): { tier: Tier; path: string } | null => {
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
  ): { tier: Tier; path: string } | null => {
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
        chosen: { tier: Tier; path: string },
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
        reportError(trans.__('Cannot mount %1', name))(
          new Error(trans.__('There is no storage tier "%1" for you.', name))
        );
        return;
      }
      mounting.last = name;
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
        reportError(trans.__('No share link'))(new Error(refusal));
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
        reportError(trans.__('Cannot create the link'))(error);
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
      const path =
        chosen.path ||
        (await (
          await dialogs()
        ).askCodePath(trans, chosen.tier, options.browse));
      if (!path) {
        return;
      }
      try {
        const access = await model.codeAccess(chosen.tier.name, path);
        await (await dialogs()).showCodeAccess(trans, access);
      } catch (error) {
        reportError(trans.__('No code access'))(error);
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
      ).askCopy(trans, chosen.tier, model.tiers, chosen.path, options.browse);
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
