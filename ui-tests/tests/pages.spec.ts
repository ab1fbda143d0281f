/*
 * The main-area pages through the real stack: the Jobs page (palette and panel,
 * sort, filter, pages), a job's detail page from "Details", restored after a
 * reload; the Admin page for hub admins only.
 */
import { expect, test } from './fixtures';
import { AdminPage, labAs } from './helpers/admin-page';
import {
  HpcBridgePage,
  paletteItems,
  runFromPalette,
  SELECTORS
} from './helpers/hpc-bridge-page';
import { JobsApi } from './helpers/jobs-api';
import { reopenLab, workspaceSaved } from './helpers/workspace';

/** SLURM runs these in seconds; the margin is for a loaded 2-core machine. */
const JOB_TIMEOUT = 120_000;
/** Rows per page of the Jobs page. */
const PAGE_SIZE = 25;

test.describe('Main-area pages', () => {
  test('the Jobs page opens from the palette and the panel, sorts, filters and pages', async ({
    page,
    playwright
  }) => {
    // More jobs than one page holds (other specs usually left enough).
    const api = await JobsApi.open(playwright);
    const run = Date.now().toString(36);
    for (let n = await api.count(); n <= PAGE_SIZE; n++) {
      await api.submit(`page-${run}-${n}`, n);
    }
    await api.dispose();

    const bridge = new HpcBridgePage(page);
    await bridge.open();
    // Notices of alice's jobs that the specs beside this one run pop up over the page's
    // buttons; this test is about the page.
    await page.addStyleTag({
      content: '#react-toastify-container { display: none !important; }'
    });
    await bridge.fromPalette(SELECTORS.jobsPageCommand);
    await expect(bridge.jobsPage).toBeVisible();
    await page.evaluate(() =>
      window.jupyterapp.commands.execute('application:close-all')
    );
    await bridge.jobs
      .getByRole('button', { name: SELECTORS.openJobsPage })
      .click();
    await expect(bridge.jobsPage).toBeVisible();

    const table = bridge.jobsPageTable;
    const name = table.getByRole('columnheader', { name: 'Name' });
    await expect(
      table.getByRole('columnheader', { name: 'Submitted' })
    ).toHaveAttribute('aria-sort', 'descending');
    await name.getByRole('button').click();
    await expect(name).toHaveAttribute('aria-sort', 'ascending');
    const names = await table
      .locator('.jp-hpc-JobsPage-open')
      .allTextContents();
    expect(names).toEqual(
      [...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))
    );

    const pager = bridge.jobsPage.getByRole('navigation', { name: 'Pages' });
    await expect(pager.getByRole('status')).toContainText(/^Page 1 of \d+/);
    await pager.getByRole('button', { name: 'Next page' }).click();
    await expect(pager.getByRole('status')).toContainText(/^Page 2 of \d+/);

    await bridge.jobsPage
      .getByRole('combobox', { name: 'State' })
      .selectOption('COMPLETED');
    await expect(pager.getByRole('status')).toContainText(/^Page 1 of /);
    const states = await table.locator('.jp-hpc-JobState').allTextContents();
    expect(states.length).toBeGreaterThan(0);
    expect(new Set(states)).toEqual(new Set(['COMPLETED']));
  });

  test("Details opens a job's page with its log and parameters, restored after a reload", async ({
    page,
    playwright
  }) => {
    const api = await JobsApi.open(playwright);
    const name = `detail-${Date.now().toString(36)}`;
    const id = await api.submit(name, 21);
    await api.dispose();

    const bridge = new HpcBridgePage(page);
    await bridge.open();
    await expect(bridge.jobState(name)).toHaveText('COMPLETED', {
      timeout: JOB_TIMEOUT
    });
    const saved = workspaceSaved(page, id);
    await bridge.jobAction(name, 'Details');

    const detail = bridge.jobPage(id);
    await expect(detail).toBeVisible();
    const parameters = detail.getByRole('region', { name: 'Parameters' });
    await expect(parameters.getByRole('row', { name: /x/ })).toContainText(
      '21'
    );
    const log = detail
      .getByRole('region', { name: 'Log' })
      .getByRole('log', { name: 'stdout' });
    await expect(log).toContainText('x = 21', { timeout: JOB_TIMEOUT });

    await reopenLab(page, saved);
    await expect(bridge.jobPage(id)).toBeVisible();
    await expect(
      bridge.jobPage(id).getByRole('region', { name: 'Parameters' })
    ).toContainText('21');
    await page.evaluate(() =>
      window.jupyterapp.commands.execute('application:close-all')
    );
  });

  test('the Admin page opens for admin only', async ({ page, browser }) => {
    const alice = new HpcBridgePage(page);
    await alice.open();
    await expect(
      await paletteItems(page, SELECTORS.adminPageCommand)
    ).toHaveCount(0);
    await page.keyboard.press('Escape');

    const adminPage = await labAs(browser, 'admin');
    try {
      const admin = new AdminPage(adminPage);
      await admin.open();
      await expect(admin.section).toBeVisible();
      await runFromPalette(adminPage, SELECTORS.adminPageCommand);
      const main = adminPage.locator(`#${SELECTORS.adminPageId}`);
      await expect(main).toBeVisible();
      await expect(main.getByRole('tab', { name: 'Audit' })).toBeVisible();
    } finally {
      await adminPage.context().close();
    }
  });
});
