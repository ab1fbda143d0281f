import { DirListing } from '@jupyterlab/filebrowser';

/**
 * The file listing of a tier drive. JupyterLab reuses a row's node for the
 * next entry and only rewrites the time when the entry has one: a folder
 * without a time (an S3 prefix) would show the time of the row's previous
 * entry, so the time columns are cleared for it.
 */
export class TierListingRenderer extends DirListing.Renderer {
  updateItemNode(
    ...args: Parameters<DirListing.Renderer['updateItemNode']>
  ): void {
    super.updateItemNode(...args);
    const [node, model] = args;
    if (!model.last_modified) {
      clearTime(node, 'jp-DirListing-itemModified');
    }
    if (!model.created) {
      clearTime(node, 'jp-DirListing-itemCreated');
    }
  }
}

function clearTime(row: HTMLElement, className: string): void {
  const cell = row.querySelector<HTMLElement>(`.${className}`);
  if (cell) {
    cell.textContent = '';
    cell.title = '';
  }
}
