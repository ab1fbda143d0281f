import type { Tier } from '@hpc-bridge/server/contract';
import type { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Uploader,
  type FileBrowser,
  type IFileBrowserFactory
} from '@jupyterlab/filebrowser';
import type { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import {
  fileIcon,
  folderIcon,
  newFolderIcon,
  notebookIcon,
  refreshIcon,
  ToolbarButton,
  type LabIcon
} from '@jupyterlab/ui-components';
import type { IStorageApi } from './api';
import { TierDrive } from './TierDrive';
import { tierClassPhrase } from './tierClass';
import { TierListingRenderer } from './TierListingRenderer';

/**
 * The drives and file browsers of mounted tiers. A drive is registered once
 * per tier and stays registered (ContentsManager cannot remove drives);
 * unmounting closes the tier's file browser.
 */
export class TierMounts {
  constructor(private readonly _options: TierMounts.IOptions) {}

  /** The drive of a tier (registered on first use). */
  drive(tier: Tier): TierDrive {
    const drive = this._drives.get(tier.name);
    if (drive) {
      drive.tier = tier;
      return drive;
    }
    return this._register(tier);
  }

  /**
   * Register the drives of tiers known by name only, before the bridge
   * describes them: the documents and recent files of the last session are
   * asked for at start, and a `scratch:…` path without its drive would go
   * to the Jupyter server (404).
   */
  registerDrives(names: Iterable<string>): void {
    for (const name of names) {
      if (!this._drives.has(name)) {
        this._register(name);
      }
    }
  }

  private _register(tier: Tier | string): TierDrive {
    const drive = new TierDrive({
      api: this._options.api,
      tier,
      serverSettings: this._options.app.serviceManager.serverSettings
    });
    this._options.app.serviceManager.contents.addDrive(drive);
    this._drives.set(drive.name, drive);
    return drive;
  }

  /** The file browser of a mounted tier, or `null`. */
  browser(name: string): FileBrowser | null {
    return this._browsers.get(name) ?? null;
  }

  /** Whether `browser` shows a tier; its name if so. */
  tierOf(browser: FileBrowser | null): string | null {
    if (!browser) {
      return null;
    }
    for (const [name, other] of this._browsers) {
      if (other === browser) {
        return name;
      }
    }
    return null;
  }

  /** Mount: a file browser on the tier's drive in the left area. */
  mount(tier: Tier, options: { activate?: boolean } = {}): FileBrowser {
    const drive = this.drive(tier);
    let browser = this._browsers.get(tier.name);
    if (!browser) {
      browser = this._options.factory.createFileBrowser(
        `${TierMounts.BROWSER_ID_PREFIX}${tier.name}`,
        {
          driveName: tier.name,
          restore: false,
          renderer: new TierListingRenderer()
        }
      );
      browser.addClass('jp-hpc-TierBrowser');
      this._addToolbar(browser, tier);
      this._labelCrumbs(browser, tier);
      browser.node.dataset.tier = tier.name;
      browser.title.icon = folderIcon;
      browser.title.label = tier.title;
      browser.title.caption = this._options.trans.__(
        '%1 (%2:), %3 of the HPC Bridge',
        tier.title,
        tier.name,
        tierClassPhrase(tier.class, this._options.trans)
      );
      // A blob URL would be saved under a random name: download under the file's own.
      browser.model.download = (path: string) =>
        drive.download(
          browser!.model.manager.services.contents.localPath(path)
        );
      const name = tier.name;
      browser.disposed.connect(() => {
        if (this._browsers.get(name) === browser) {
          this._browsers.delete(name);
        }
      });
      this._browsers.set(tier.name, browser);
      this._options.app.shell.add(browser, 'left', { rank: TierMounts.RANK });
    }
    if (options.activate ?? true) {
      this._options.app.shell.activateById(browser.id);
    }
    return browser;
  }

  unmount(name: string): void {
    this._browsers.get(name)?.dispose();
  }

  /**
   * The tier's name at the root of the breadcrumbs, so that users see they
   * are in `scratch:`, not `/`. Drawn by the stylesheet: the breadcrumbs
   * rebuild their nodes on every change of folder.
   */
  private _labelCrumbs(browser: FileBrowser, tier: Tier): void {
    browser.node.style.setProperty(
      TierMounts.CRUMB_PROPERTY,
      JSON.stringify(`${tier.name}:`)
    );
  }

  /** New notebook, file and folder, Upload (the drive takes the chunks) and Refresh. */
  private _addToolbar(browser: FileBrowser, tier: Tier): void {
    const { app, trans } = this._options;
    const writable = tier.access === 'write';
    const button = (
      icon: LabIcon,
      tooltip: string,
      onClick: () => unknown,
      enabled = writable
    ) =>
      new ToolbarButton({
        icon,
        tooltip,
        enabled,
        onClick: () => void onClick()
      });
    if (app.commands.hasCommand(TierMounts.NEW_NOTEBOOK_COMMAND)) {
      browser.toolbar.addItem(
        'new-notebook',
        button(notebookIcon, trans.__('New Notebook'), () =>
          app.commands.execute(TierMounts.NEW_NOTEBOOK_COMMAND, {
            cwd: browser.model.path,
            kernelName: app.serviceManager.kernelspecs.specs?.default
          })
        )
      );
    }
    browser.toolbar.addItem(
      'new-file',
      button(fileIcon, trans.__('New File'), () =>
        browser.createNewFile({ ext: '.txt' })
      )
    );
    browser.toolbar.addItem(
      'new-folder',
      button(newFolderIcon, trans.__('New Folder'), () =>
        browser.createNewDirectory()
      )
    );
    if (writable) {
      browser.toolbar.addItem(
        'upload',
        new Uploader({
          model: browser.model,
          translator: this._options.translator
        })
      );
    }
    browser.toolbar.addItem(
      'refresh',
      button(
        refreshIcon,
        trans.__('Refresh %1', tier.title),
        () => browser.model.refresh(),
        true
      )
    );
  }

  private readonly _drives = new Map<string, TierDrive>();
  private readonly _browsers = new Map<string, FileBrowser>();
}

export namespace TierMounts {
  export interface IOptions {
    app: JupyterFrontEnd;
    factory: IFileBrowserFactory;
    api: IStorageApi;
    trans: TranslationBundle;
    /** For the file browser's Upload button. */
    translator?: ITranslator;
  }

  /** Left-area rank of tier browsers: after the default file browser. */
  export const RANK = 150;
  export const BROWSER_ID_PREFIX = 'hpc-bridge-tier-';
  /** The CSS property holding the breadcrumbs' root label (a CSS string). */
  export const CRUMB_PROPERTY = '--jp-hpc-tier-crumb';
  /** JupyterLab's own, so that a new notebook opens with the default kernel. */
  export const NEW_NOTEBOOK_COMMAND = 'notebook:create-new';
}
