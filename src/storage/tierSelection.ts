import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { IFileBrowserFactory } from '@jupyterlab/filebrowser';

/** The file browsers of tiers carry this class (see `TierMounts`). */
export const TIER_BROWSER_CLASS = 'jp-hpc-TierBrowser';

/** The context-menu selector of the files (not folders) in tier browsers. */
export const TIER_FILE_SELECTOR = `.${TIER_BROWSER_CLASS} .jp-DirListing-item[data-isdir="false"]`;

/** The tier and path selected in the current tier file browser, if any. */
export function tierSelection(
  app: JupyterFrontEnd,
  browsers: IFileBrowserFactory | null
): { tier: string; path: string } | null {
  const browser = browsers?.tracker.currentWidget ?? null;
  if (!browser?.hasClass(TIER_BROWSER_CLASS)) {
    return null;
  }
  const item = browser.selectedItems().next();
  if (!item || item.done) {
    return null;
  }
  const contents = app.serviceManager.contents;
  const tier = contents.driveName(item.value.path);
  return tier ? { tier, path: contents.localPath(item.value.path) } : null;
}

/** A command's `tier` and `path` arguments, else the selection in a tier browser. */
export function tierTarget(
  app: JupyterFrontEnd,
  browsers: IFileBrowserFactory | null,
  args: Record<string, unknown>
): { tier: string; path: string } | null {
  const tier = typeof args['tier'] === 'string' ? args['tier'] : null;
  const path = typeof args['path'] === 'string' ? args['path'] : null;
  return tier && path ? { tier, path } : tierSelection(app, browsers);
}

/** `describedBy` of a command on a file of a tier (`tierTarget`'s arguments). */
export const TIER_FILE_ARGS = {
  args: {
    type: 'object',
    properties: {
      tier: { type: 'string', description: 'The tier name, e.g. "archive"' },
      path: {
        type: 'string',
        description:
          'The file inside the tier; defaults to the selection in its file browser'
      }
    }
  }
};
