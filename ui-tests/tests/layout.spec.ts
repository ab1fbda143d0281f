/*
 * The panel at JupyterLab's default side-bar width (never widened here) and in a
 * 1024×700 window: no horizontal scroll, a readable job state, row actions in
 * a "…" menu, sections that fold and stay folded, a Jobs list of bounded height.
 */
import { expect, test } from './fixtures';
import type { Locator } from '@playwright/test';

import { saveNotebook, userApi } from './helpers/contents';
import { HpcBridgePage, SELECTORS } from './helpers/hpc-bridge-page';
import { reopenLab, workspaceSaved } from './helpers/workspace';

/** Every section the panel may show; Course and Admin only to some users. */
const SECTIONS = ['Cluster', 'Jobs', 'Storage', 'Endpoints', 'Course', 'Admin'];
const JOB_TIMEOUT = 120_000;
/** About ten rows of the Jobs list, with its header. */
const JOBS_LIST_MAX_HEIGHT = 400;

async function expectNoHorizontalScroll(
  locator: Locator,
  what: string
): Promise<void> {
  const { scrollWidth, clientWidth } = await locator.evaluate(node => ({
    scrollWidth: node.scrollWidth,
    clientWidth: node.clientWidth
  }));
  expect(scrollWidth, `${what} scrolls horizontally`).toBeLessThanOrEqual(
    clientWidth
  );
}

/** The panel and each visible section fit their width. */
async function expectPanelFits(bridge: HpcBridgePage): Promise<void> {
  await expect(bridge.cluster).toBeVisible();
  await expect(bridge.jobs).toBeVisible();
  await expectNoHorizontalScroll(bridge.panel, 'the panel');
  await expectNoHorizontalScroll(
    bridge.panel.locator('.jp-SidePanel-content'),
    "the panel's content"
  );
  for (const name of SECTIONS) {
    const section = bridge.section(name);
    if (await section.isVisible()) {
      await expectNoHorizontalScroll(section, `the ${name} section`);
    }
  }
}

for (const viewport of [null, { width: 1024, height: 700 }]) {
  const where = viewport
    ? `at ${viewport.width}×${viewport.height}`
    : 'at the default side-bar width';

  test.describe(`Panel layout ${where}`, () => {
    if (viewport) {
      test.use({ viewport });
    }

    test('no section needs a horizontal scroll', async ({ page }) => {
      const bridge = new HpcBridgePage(page);
      await bridge.open();
      await expectPanelFits(bridge);
    });

    test('a job row shows its full state as its name and its actions in the … menu', async ({
      page,
      playwright,
      tmpPath
    }) => {
      const notebook = `${tmpPath}/layout.ipynb`;
      const name = `layout-${Date.now().toString(36)}`;
      const api = await userApi(playwright);
      await saveNotebook(api, notebook, [{ source: 'print("fits")' }]);
      await api.dispose();
      const bridge = new HpcBridgePage(page);
      await page.notebook.openByPath(notebook);
      await bridge.open();
      const dialog = await bridge.openSubmitDialog();
      await dialog.getByLabel('Job name').fill(name);
      await dialog.getByRole('button', { name: 'Submit' }).click();
      await expect(dialog).toBeHidden();

      const state = bridge.jobState(name);
      await expect(state).toHaveAccessibleName('COMPLETED', {
        timeout: JOB_TIMEOUT
      });
      await expect(state).toHaveAttribute('title', /^COMPLETED/);
      await expect(state).toBeInViewport();
      await expect(bridge.jobRow(name).getByRole('progressbar')).toBeVisible();
      await expect(bridge.jobRow(name).locator('time')).toBeVisible();

      const more = bridge.jobActionsButton(name);
      await expect(more).toBeInViewport();
      await more.click();
      const menu = page.locator('.jp-hpc-MoreActionsMenu');
      for (const action of ['Log', 'Open output', 'Details', 'Resubmit']) {
        await expect(
          menu.getByRole('menuitem', { name: action })
        ).toBeInViewport();
      }
      await page.keyboard.press('Escape');
      await expect(menu).toBeHidden();
      await expectPanelFits(bridge);
    });

    test('the Jobs list has a bounded height and scrolls inside', async ({
      page
    }) => {
      const bridge = new HpcBridgePage(page);
      await bridge.open();
      await expect(bridge.jobs).toBeVisible();
      const list = bridge.jobs.locator('.jp-hpc-JobTable-scroll');
      if ((await list.count()) === 0) {
        // No jobs yet: nothing to bound.
        await expect(bridge.jobs).toContainText(/No jobs/);
        return;
      }
      const box = await list.boundingBox();
      expect(box?.height ?? 0).toBeLessThanOrEqual(JOBS_LIST_MAX_HEIGHT);
      // The sections below Jobs are not pushed out of reach.
      await expect(bridge.section('Storage')).toBeAttached();
    });

    test('a folded section stays folded after a reload', async ({ page }) => {
      const bridge = new HpcBridgePage(page);
      await bridge.open();
      const toggle = bridge.sectionToggle(SELECTORS.clusterRegion);
      await expect(toggle).toHaveAttribute('aria-expanded', 'true');
      const saved = workspaceSaved(page, 'folded-sections');
      await toggle.click();
      await expect(toggle).toHaveAttribute('aria-expanded', 'false');
      await expect(bridge.partitionRow('cpu')).toBeHidden();

      await reopenLab(page, saved);
      await bridge.open();
      const reloaded = bridge.sectionToggle(SELECTORS.clusterRegion);
      await expect(reloaded).toHaveAttribute('aria-expanded', 'false');
      await expect(bridge.partitionRow('cpu')).toBeHidden();
      await expectPanelFits(bridge);

      // Unfold again: the other specs expect the Cluster section open.
      await reloaded.click();
      await expect(reloaded).toHaveAttribute('aria-expanded', 'true');
      await expect(bridge.partitionRow('cpu')).toHaveCount(1);
    });
  });
}
