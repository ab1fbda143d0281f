/*
 * Page object of the HPC Bridge panels, found by role and accessible name.
 */
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import { expect } from '@jupyterlab/galata';
import type { Locator, Page } from '@playwright/test';

export const SELECTORS = {
  /** Id of the side panel (and data-id of its tab). */
  panelId: 'jp-hpc-bridge-panel',
  /** Accessible name of the side panel's tab and of the panel. */
  panelName: 'HPC Bridge',
  /** Accessible name of the Cluster section (a region). */
  clusterRegion: 'Cluster',
  /** Header of the partition table's GPU column. */
  gpuColumn: /GPU/i,
  /** The handle between the left side panel and the main area. */
  leftHandle: '#jp-main-split-panel > .lm-SplitPanel-handle',
  /** The status bar. */
  statusBar: '#jp-main-statusbar',
  /** Accessible name of the Jobs section (a region) and of its table. */
  jobsRegion: 'Jobs',
  /** The notebook toolbar button and the dialog it opens. */
  submitButton: 'Submit to cluster',
  submitDialog: 'Submit to cluster',
  /** The cell context menu item and the dialog it opens. */
  runCellsMenu: 'Run Selected Cells on Cluster…',
  cellsDialog: 'Run selected cells on cluster',
  /** The modal command palette. */
  palette: '#modal-command-palette',
  /** The commands that open the Admin page and its widget id. */
  adminPageCommand: 'Open the Admin Page',
  adminPageId: 'jp-hpc-admin-page',
  /** The command that opens the Jobs page, its widget id and its table. */
  jobsPageCommand: 'Open the Jobs Page',
  jobsPageId: 'jp-hpc-jobs-page',
  jobsPageTable: 'All jobs',
  /** The Jobs section's button that opens the Jobs page. */
  openJobsPage: 'Open the Jobs page',
  /** The widget id of a job's page. */
  jobPageId: (id: string): string => `jp-hpc-job-${id}`,
  /** The status bar item's text once the bridge knows the user. */
  statusText: (user: string): string => `HPC Bridge: ${user}`
} as const;

export class HpcBridgePage {
  constructor(readonly page: IJupyterLabPageFixture) {}

  /** The tab of the panel in the side bar. */
  get tab(): Locator {
    return this.page.getByRole('tab', { name: SELECTORS.panelName });
  }

  get panel(): Locator {
    return this.page.locator(`#${SELECTORS.panelId}`);
  }

  get cluster(): Locator {
    return this.panel.getByRole('region', { name: SELECTORS.clusterRegion });
  }

  get jobs(): Locator {
    return this.panel.getByRole('region', { name: SELECTORS.jobsRegion });
  }

  /** The row of the job called `name` in the Jobs table. */
  jobRow(name: string): Locator {
    return this.jobs.locator('tr.jp-hpc-JobTable-row').filter({
      has: this.page.locator('td:first-child', { hasText: name })
    });
  }

  /** The Jobs page of the main area. */
  get jobsPage(): Locator {
    return this.page.locator(`#${SELECTORS.jobsPageId}`);
  }

  /** The table of the Jobs page. */
  get jobsPageTable(): Locator {
    return this.jobsPage.getByRole('table', { name: SELECTORS.jobsPageTable });
  }

  /** The detail page of the job `id`. */
  jobPage(id: string): Locator {
    return this.page.locator(`#${SELECTORS.jobPageId(id)}`);
  }

  /** Runs a command by its label from the command palette. */
  async fromPalette(label: string): Promise<void> {
    await runFromPalette(this.page, label);
  }

  /** The state of the job called `name`: an icon whose accessible name is the state. */
  jobState(name: string): Locator {
    return this.jobRow(name).locator('.jp-hpc-JobState');
  }

  /** The "…" button of the job called `name`, which opens its actions menu. */
  jobActionsButton(name: string): Locator {
    return this.jobRow(name).getByRole('button', {
      name: `Actions for ${name}`
    });
  }

  /** Runs a row action (`Log`, `Open output`, `Details`, `Cancel`…) from the job's "…" menu. */
  async jobAction(name: string, action: string): Promise<void> {
    await this.jobActionsButton(name).click();
    await this.page
      .locator('.jp-hpc-MoreActionsMenu')
      .getByRole('menuitem', { name: action })
      .click();
  }

  /** The panel section (a region) named `name`: `Cluster`, `Jobs`, `Storage`… */
  section(name: string): Locator {
    return this.panel.getByRole('region', { name, exact: true });
  }

  /** The caret button in a section's header that folds and unfolds it. */
  sectionToggle(name: string): Locator {
    return this.section(name).locator('.jp-hpc-Section-toggle');
  }

  /** The JupyterLab dialog titled `title` (its node has no accessible name). */
  dialog(title: string): Locator {
    return this.page.getByRole('dialog').filter({
      has: this.page.locator('.jp-Dialog-header', { hasText: title })
    });
  }

  /**
   * Answers the confirmation of a destructive action (titled `title`) with its
   * warn button `action`, and waits for the dialog to close.
   */
  async confirm(title: string, action: string): Promise<void> {
    const dialog = this.dialog(title);
    await expect(
      dialog.getByRole('button', { name: 'Cancel', exact: true })
    ).toBeVisible();
    await dialog.getByRole('button', { name: action, exact: true }).click();
    await expect(dialog).toHaveCount(0);
  }

  /** Clicks the notebook toolbar's Submit to cluster and answers its dialog. */
  async openSubmitDialog(): Promise<Locator> {
    await this.page
      .getByRole('button', { name: SELECTORS.submitButton })
      .first()
      .click();
    return this.dialog(SELECTORS.submitDialog);
  }

  /** A tier's checkbox in a submit or create dialog: `Scratch`, `Sensitive (medical)`. */
  tierCheckbox(dialog: Locator, title: string): Locator {
    return dialog
      .getByRole('group', { name: 'Storage tiers (optional)' })
      .getByRole('checkbox', { name: new RegExp(`^${escapeRegExp(title)} `) });
  }

  /**
   * Waits until the document `fileName` (a tab of the main area) is the one shown and its
   * outputs hold `text`. Its own panel, not "any visible notebook", and the outputs' text,
   * not their paint: the notebook renders cells on idle time and skips the layout of
   * cells the browser deems off screen (windowing), so a visibility check of output
   * text races the rendering, while the document's content is what was opened.
   */
  async expectOutput(fileName: string, text: string): Promise<void> {
    const main = this.page.getByRole('main');
    await expect(main.getByRole('tab', { name: fileName })).toHaveClass(
      /\bjp-mod-current\b/
    );
    const panel = main.getByRole('tabpanel', { name: fileName });
    await expect(panel).toBeVisible();
    await expect(
      panel.locator('.jp-OutputArea-output', { hasText: text })
    ).toHaveCount(1);
  }

  get statusItem(): Locator {
    return this.page
      .locator(SELECTORS.statusBar)
      .getByText(/^HPC Bridge:/)
      .first();
  }

  /** Shows the panel (a click on an active side tab would collapse it). */
  async open(): Promise<void> {
    await this.tab.waitFor();
    if ((await this.tab.getAttribute('aria-selected')) !== 'true') {
      await this.tab.click();
    }
    await this.panel.waitFor({ state: 'visible' });
  }

  /** Drags the left side panel's edge to `x` pixels (for screenshots). */
  async widen(x: number): Promise<void> {
    await widenLeftPanel(this.page, x);
  }

  /** The partition table row whose first cell is the partition `name`. */
  partitionRow(name: string): Locator {
    return this.cluster.getByRole('row').filter({
      has: this.page.locator('td:first-child', {
        hasText: new RegExp(`^\\s*${name}\\b`)
      })
    });
  }

  /** The cell of the `partition` row in the column whose header matches. */
  async cell(partition: string, header: RegExp): Promise<Locator> {
    const headers = await this.cluster
      .getByRole('columnheader')
      .allTextContents();
    const index = headers.findIndex(text => header.test(text));
    if (index < 0) {
      throw new Error(
        `No column matches ${header} in the partition table (${headers.join(', ')})`
      );
    }
    return this.partitionRow(partition).locator('td').nth(index);
  }
}

/** The command palette's items whose label holds `label`, once it is typed in. */
export async function paletteItems(
  page: Pick<Page, 'evaluate' | 'locator'>,
  label: string
): Promise<Locator> {
  const palette = page.locator(SELECTORS.palette);
  const input = palette.locator('input');
  await page.evaluate(() => window.jupyterapp.restored);
  // The modal palette closes when the focus leaves it, and a lab that has just started
  // may still move the focus (restoring its layout): open it until it stays open.
  await expect(async () => {
    await page.evaluate(() =>
      window.jupyterapp.commands.execute('apputils:activate-command-palette')
    );
    await input.fill(label, { timeout: 2000 });
  }).toPass({ timeout: 30_000 });
  return palette.locator('.lm-CommandPalette-item', { hasText: label });
}

/** Runs a command by its label from the command palette. */
export async function runFromPalette(
  page: Pick<Page, 'evaluate' | 'locator'>,
  label: string
): Promise<void> {
  // A command that depends on the user's role registers once the bridge has answered:
  // on a busy machine after the palette first opened.
  await expect(async () => {
    await (await paletteItems(page, label)).first().click({ timeout: 5000 });
  }).toPass({ timeout: 90_000 });
}

/** Drags the left side panel's edge to `x` pixels (for screenshots). */
export async function widenLeftPanel(
  page: Pick<Page, 'locator' | 'mouse'>,
  x: number
): Promise<void> {
  const handle = page.locator(SELECTORS.leftHandle).first();
  const box = await handle.boundingBox();
  if (!box) {
    throw new Error('The left side panel has no resize handle');
  }
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width / 2, y);
  await page.mouse.down();
  await page.mouse.move(x, y, { steps: 5 });
  await page.mouse.up();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
