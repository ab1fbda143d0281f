import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Clipboard } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import type { FileBrowser } from '@jupyterlab/filebrowser';
import { ITranslator } from '@jupyterlab/translation';
import { linkIcon } from '@jupyterlab/ui-components';

/** JupyterLab's own command id, kept so menus and shortcuts find it. */
const COPY_SHAREABLE_LINK = 'filebrowser:share-main';

/**
 * JupyterLab's "Copy Shareable Link", for the server's own files only. Its
 * link opens `lab/tree/<path>`, which knows nothing of drives: a storage
 * tier is mounted only once the bridge answered, so a `scratch:…` link
 * would open nothing. Tier files are shared with "Share Link…" (an
 * anonymous link of the bridge). Replaces
 * `@jupyterlab/filebrowser-extension:share-file` (disabled in package.json).
 */
export const shareFilePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-hpc-bridge:share-file',
  description:
    'Adds the "Copy Shareable Link" command for the server\'s own files; files of storage tiers are shared with "Share Link…".',
  autoStart: true,
  requires: [IFileBrowserFactory, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    factory: IFileBrowserFactory,
    translator: ITranslator
  ): void => {
    const trans = translator.load('jupyterlab');
    const selectedServerFile = (): string | null => {
      const browser: FileBrowser | null = factory.tracker.currentWidget;
      if (!browser || browser.model.driveName) {
        return null;
      }
      const selected = Array.from(browser.selectedItems());
      return selected.length === 1 ? selected[0].path : null;
    };
    app.commands.addCommand(COPY_SHAREABLE_LINK, {
      label: trans.__('Copy Shareable Link'),
      icon: linkIcon.bindprops({ stylesheet: 'menuItem' }),
      isVisible: () => selectedServerFile() !== null,
      describedBy: { args: { type: 'object', properties: {} } },
      execute: () => {
        const path = selectedServerFile();
        if (path !== null) {
          Clipboard.copyToSystem(
            PageConfig.getUrl({
              workspace: PageConfig.defaultWorkspace,
              treePath: path,
              toShare: true
            })
          );
        }
      }
    });
  }
};
