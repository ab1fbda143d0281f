/*
 * Page object of a notebook on a cluster kernel: the kernel picker, the status bar
 * item, the stdin box, the notices; and the cluster as the test sees it (squeue, and
 * scancel as the user, behind the notebook's back).
 */
import { execFileSync } from 'child_process';

import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import { expect, type Locator } from '@playwright/test';

export const KERNEL_SELECTORS = {
  /** The display name of the cpu-small profile's kernel (stack/conf/bridge-config.yaml). */
  cpuSmallKernel: 'Python 3 on cluster — CPU, small',
  /** The status bar item of the current notebook's cluster kernel. */
  statusItem: '.jp-hpc-KernelStatus-content',
  /** Accessible name of the details in the dialog the status bar item opens. */
  details: 'Cluster kernel details',
  /** Its buttons. */
  shutDown: 'Shut down',
  close: 'Close',
  /** The box `input()` shows under a cell. */
  stdin: '.jp-Stdin-input',
  /** A JupyterLab notification toast. */
  toast: '.Toastify__toast',
  /** The Admin section's tab and table of running cluster kernels. */
  adminTab: 'Kernels',
  adminTable: 'Cluster kernels',
  /** The running text of the status bar item: node and job id. */
  running: /^Cluster: (\S+) · job (\d+)/
} as const;

export class KernelsPage {
  constructor(readonly page: IJupyterLabPageFixture) {}

  get statusItem(): Locator {
    return this.page.locator(KERNEL_SELECTORS.statusItem);
  }

  get stdin(): Locator {
    return this.page.locator(KERNEL_SELECTORS.stdin);
  }

  /** A notification whose text contains `text`. */
  notice(text: string | RegExp): Locator {
    return this.page.locator(KERNEL_SELECTORS.toast).filter({ hasText: text });
  }

  /**
   * A new notebook in `folder` (where galata opens the file browser) from the
   * launcher's card of the kernel named `kernel`.
   */
  async newNotebook(folder: string, kernel: string): Promise<void> {
    await this.page.sidebar.openTab('filebrowser');
    await expect(
      this.page.locator('.jp-FileBrowser-crumbs').getByText(folder)
    ).toBeVisible();
    await this.page.menu.clickMenuItem('File>New Launcher');
    await this.page
      .locator('.jp-LauncherCard[data-category="Notebook"]')
      .filter({ hasText: kernel, visible: true })
      .click();
    await this.page.locator('.jp-NotebookPanel').first().waitFor();
  }

  /** Runs `source` in cell `index` and resolves with its text output, once done. */
  async run(index: number, source: string): Promise<string> {
    await this.page.notebook.setCell(index, 'code', source);
    await this.page.notebook.runCell(index);
    return ((await this.page.notebook.getCellTextOutput(index)) ?? []).join('');
  }

  /** Starts `source` in cell `index` without waiting for it to end. */
  async start(index: number, source: string): Promise<void> {
    await this.page.notebook.setCell(index, 'code', source);
    await this.page.notebook.runCell(index, { inplace: true, wait: false });
  }

  /** The output area of cell `index`. */
  async output(index: number): Promise<Locator> {
    const cell = await this.page.notebook.getCellLocator(index);
    if (cell === null) {
      throw new Error(`No cell ${index}`);
    }
    return cell.locator('.jp-OutputArea');
  }

  /** Opens the status bar item's details and shuts the kernel down there. */
  async shutDownFromStatusBar(): Promise<void> {
    await this.statusItem.click();
    const dialog = this.page.locator('.jp-Dialog').filter({
      has: this.page.getByLabel(KERNEL_SELECTORS.details)
    });
    await dialog
      .getByRole('button', { name: KERNEL_SELECTORS.shutDown })
      .click();
    await dialog.waitFor({ state: 'detached' });
  }
}

/** `STATE` of a SLURM job in the queue, or '' once it has left it. */
export function squeue(slurmId: string): string {
  try {
    return execFileSync('squeue', ['-h', '-j', slurmId, '-o', '%T'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore']
    }).trim();
  } catch {
    return '';
  }
}

/** `scancel` as Unix user `user` (the job's owner), as someone in a terminal would. */
export function scancelAs(user: string, slurmId: string): void {
  execFileSync('/usr/sbin/runuser', ['-u', user, '--', 'scancel', slurmId], {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 30_000
  });
}
