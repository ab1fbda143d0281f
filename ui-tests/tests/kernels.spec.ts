/*
 * A notebook's kernel as a SLURM job of alice, through the real stack: the kernel
 * picker, the launcher, the bridge's relay, the status bar item and the notices.
 */
import * as path from 'path';

import { HUB_USER, USER_SERVER_URL } from '../hub';
import { expect, test } from './fixtures';
import { AdminPage, labAs } from './helpers/admin-page';
import { userApi } from './helpers/contents';
import {
  KERNEL_SELECTORS,
  KernelsPage,
  scancelAs,
  squeue
} from './helpers/kernels-page';

const IMAGES = path.resolve(__dirname, '..', '..', 'docs', 'images');
/** An idle cluster starts a kernel in seconds; the margin is for a loaded 2-core machine. */
const KERNEL_TIMEOUT = 120_000;
/** The cell that prints the job id, and the id in its output (`'123'`). */
const JOB_ID_CELL = 'import os; os.environ["SLURM_JOB_ID"]';
const jobIdOf = (output: string): string => {
  const id = /'(\d+)'/.exec(output)?.[1];
  if (id === undefined) {
    throw new Error(`No SLURM job id in ${JSON.stringify(output)}`);
  }
  return id;
};

test.describe('Cluster kernels', () => {
  test.setTimeout(6 * 60_000);
  // galata's tracking of sessions and kernels proxies their POSTs and reads every answer
  // as JSON: an interrupt's 204 fails it. The sessions are shut down below instead.
  test.use({ kernels: null, sessions: null });

  // A failed test leaves its notebook's kernel running on the cluster (and holding its
  // CPUs) until the idle cull: shut every kernel of the user's server down, as closing
  // the notebook would (the launcher cancels its job).
  test.afterEach(async ({ playwright }) => {
    const api = await userApi(playwright);
    try {
      const sessions = await api.get(`${USER_SERVER_URL}/api/sessions`);
      for (const session of (await sessions.json()) as { id: string }[]) {
        await api.delete(`${USER_SERVER_URL}/api/sessions/${session.id}`);
      }
    } finally {
      await api.dispose();
    }
  });

  test('run, input(), interrupt, restart and shut down a notebook on a cluster kernel', async ({
    page,
    tmpPath
  }) => {
    const kernels = new KernelsPage(page);
    await kernels.newNotebook(tmpPath, KERNEL_SELECTORS.cpuSmallKernel);

    // The status bar follows the kernel from the queue to its node.
    await expect(kernels.statusItem).toHaveText(KERNEL_SELECTORS.running, {
      timeout: KERNEL_TIMEOUT
    });
    const jobId = jobIdOf(await kernels.run(0, JOB_ID_CELL));
    expect(squeue(jobId)).toBe('RUNNING');
    const [, node] =
      KERNEL_SELECTORS.running.exec(
        (await kernels.statusItem.textContent()) ?? ''
      ) ?? [];
    expect(node).toBeTruthy();
    await expect(kernels.statusItem).toContainText(`job ${jobId}`);
    await expect(kernels.statusItem).toContainText(/\d+ min left/);
    await page
      .locator('#jp-main-statusbar')
      .screenshot({ path: path.join(IMAGES, 'kernel-status.png') });

    // input(): the stdin box under the cell.
    await page.notebook.addCell('code', '');
    await kernels.start(1, 'name = input("Your name? ")\nprint("hello", name)');
    await kernels.stdin.fill(HUB_USER);
    await kernels.stdin.press('Enter');
    await expect(await kernels.output(1)).toContainText(`hello ${HUB_USER}`);

    // Interrupt a long cell with the notebook's Interrupt button.
    await page.notebook.addCell('code', '');
    await kernels.start(2, 'import time; time.sleep(600)');
    const cell = await page.notebook.getCellLocator(2);
    await expect(cell!.locator('.jp-InputPrompt')).toHaveText('[*]:');
    await page.notebook.clickToolbarItem('interrupt');
    await expect(await kernels.output(2)).toContainText('KeyboardInterrupt');

    // Restart: the old job ends, a new job of the same notebook answers; no
    // "the kernel appears to have died" on the way.
    await page.menu.clickMenuItem('Kernel>Restart Kernel…');
    await page
      .locator('.jp-Dialog')
      .getByRole('button', { name: 'Confirm Kernel Restart' })
      .click();
    await expect
      .poll(() => squeue(jobId), { timeout: KERNEL_TIMEOUT })
      .toBe('');
    await expect(kernels.statusItem).toHaveText(KERNEL_SELECTORS.running, {
      timeout: KERNEL_TIMEOUT
    });
    const restartedJobId = jobIdOf(await kernels.run(0, JOB_ID_CELL));
    expect(restartedJobId).not.toBe(jobId);
    expect(squeue(restartedJobId)).toBe('RUNNING');
    await expect(page.locator('.jp-Dialog')).toHaveCount(0);
    await expect(kernels.notice('appears to have died')).toHaveCount(0);

    // Shut down from the status bar item's details: the job is gone from the queue.
    await kernels.shutDownFromStatusBar();
    await expect
      .poll(() => squeue(restartedJobId), { timeout: KERNEL_TIMEOUT })
      .toBe('');
    await expect(kernels.statusItem).toBeHidden();
    // The owner's own shutdown is no error.
    await expect(
      kernels.notice(`cluster job ${restartedJobId} ended`)
    ).toHaveCount(0);
  });

  test('the admin sees the kernel; a job cancelled behind the notebook is reported in it', async ({
    browser,
    page,
    tmpPath
  }) => {
    const kernels = new KernelsPage(page);
    await kernels.newNotebook(tmpPath, KERNEL_SELECTORS.cpuSmallKernel);
    await expect(kernels.statusItem).toHaveText(KERNEL_SELECTORS.running, {
      timeout: KERNEL_TIMEOUT
    });
    const jobId = jobIdOf(await kernels.run(0, JOB_ID_CELL));

    // The Admin section lists the running kernel with its user and job.
    const adminPage = await labAs(browser, 'admin');
    try {
      const admin = new AdminPage(adminPage);
      await admin.open();
      await admin.tab(KERNEL_SELECTORS.adminTab).click();
      const row = admin.section
        .getByRole('table', { name: KERNEL_SELECTORS.adminTable })
        .getByRole('row')
        .filter({ hasText: jobId });
      await expect(row).toContainText(HUB_USER);
      await expect(row).toContainText('cpu-small');
      await expect(row).toContainText('running');
    } finally {
      await adminPage.context().close();
    }

    scancelAs(HUB_USER, jobId);

    const notice = kernels.notice(`The cluster job ${jobId} ended`);
    await expect(notice).toBeVisible({ timeout: KERNEL_TIMEOUT });
    await expect(notice).toContainText(
      'CANCELLED (cancelled outside the notebook)'
    );
    await expect(notice).toContainText('Restart the kernel to get a new job.');
    await expect.poll(() => squeue(jobId)).toBe('');
    // Leave nothing on the cluster: shut down whatever the notebook runs now.
    await page.menu.clickMenuItem('Kernel>Shut Down Kernel');
  });
});
