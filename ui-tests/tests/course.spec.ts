/*
 * The Course section through the real stack: carol (instructor of ml101) sets up
 * the course in the panel (her endpoint with a token budget, an archive folder as
 * dataset, a job profile with one job at a time per student); alice (a student)
 * sees it, gets her key once, lists the dataset and sees her job allowance.
 */
import * as path from 'path';

import { expect, test } from './fixtures';
import { labAs } from './helpers/admin-page';
import {
  COURSE_SELECTORS as S,
  CoursePage,
  bridgeApiOf,
  endpointOf,
  ok,
  type IEndpoint
} from './helpers/course-page';
import { widenLeftPanel } from './helpers/hpc-bridge-page';

const IMAGES = path.resolve(__dirname, '..', '..', 'docs', 'images');
const COURSE = 'ml101';
const BUDGET = 5000;

test.describe('Course', () => {
  test('carol sets up ml101 in the panel; alice gets her key once', async ({
    browser,
    page,
    playwright
  }) => {
    test.setTimeout(600_000);
    const suffix = String(Date.now());
    const folder = `ui-course-${suffix}`;
    const carolPage = await labAs(browser, 'carol');
    const carol = await bridgeApiOf(playwright, carolPage);
    let endpoint: { id: string; created: boolean } | null = null;
    try {
      endpoint = await endpointOf(carol, suffix);
      await ok(
        'create the dataset folder',
        carol.post('tiers/archive/mkdir', { data: { path: folder } })
      );
      const put = await carol.put(
        `tiers/archive/content?path=${encodeURIComponent(`${folder}/data.csv`)}`,
        {
          data: 'x,y\n1,2\n',
          headers: { 'Content-Type': 'application/octet-stream' }
        }
      );
      expect(put.status()).toBe(201);

      // carol, in the panel.
      const teacher = new CoursePage(carolPage);
      await teacher.open();
      await expect(teacher.course(COURSE)).toBeVisible();
      await teacher.course(COURSE).scrollIntoViewIfNeeded();
      await teacher.setUp(COURSE, {
        endpointId: endpoint.id,
        budget: BUDGET,
        tier: 'archive',
        folder,
        jobProfile: { base: 'cpu-small', maxActiveJobs: 1 }
      });
      await expect(teacher.settings(COURSE)).toContainText('Saved by carol');
      const saved = await ok<{
        endpoint: { id: string; tokenBudget: number } | null;
        dataset: { tier: string; path: string } | null;
        jobProfile: unknown;
      }>('read the course', carol.get(`courses/${COURSE}`));
      expect(saved.jobProfile).toMatchObject({
        profile: `course:${COURSE}`,
        baseProfile: 'cpu-small',
        maxActiveJobs: 1,
        gpuHoursBudget: null
      });
      expect(saved.endpoint).toMatchObject({
        id: endpoint.id,
        tokenBudget: BUDGET
      });
      expect(saved.dataset).toEqual({
        tier: 'archive',
        path: folder,
        owner: 'carol'
      });
      await expect(
        teacher.course(COURSE).getByRole('table', { name: S.usage })
      ).toBeVisible();
      await carolPage.setViewportSize({ width: 1280, height: 1200 });
      await widenLeftPanel(carolPage, 760);
      await teacher.section.scrollIntoViewIfNeeded();
      await teacher.section.screenshot({
        path: path.join(IMAGES, 'course-panel.png')
      });

      // alice, the suite's user, as a student.
      await page.reload();
      const student = new CoursePage(page);
      await student.open();
      const course = student.course(COURSE);
      await expect(course).toBeVisible();
      await course.scrollIntoViewIfNeeded();
      await expect(course).toContainText('tiny-random');
      await expect(course.getByRole('list', { name: S.files })).toContainText(
        'data.csv'
      );
      const myJobs = course.getByRole('group', { name: S.myJobs });
      await expect(myJobs).toContainText(`course:${COURSE}`);
      await expect(myJobs).toContainText(/\d of 1 jobs at a time/);

      await course.getByRole('button', { name: S.getKey }).click();
      const dialog = page.locator('.jp-Dialog');
      await expect(dialog).toContainText(S.keyDialogTitle);
      const key = await dialog
        .getByRole('textbox', { name: S.keyField })
        .inputValue();
      expect(key.length).toBeGreaterThan(16);
      await expect(dialog.getByLabel(S.python, { exact: true })).toContainText(
        key
      );
      await dialog.getByRole('button', { name: 'Close' }).click();
      await expect(dialog).toHaveCount(0);
      // Shown once: the panel keeps only the key's prefix.
      await expect(course).toContainText('Budget left');
      expect(await student.panel.innerText()).not.toContain(key);
    } finally {
      await carol.put(`courses/${COURSE}`, {
        data: { endpoint: null, dataset: null, jobProfile: null }
      });
      if (endpoint?.created) {
        await carol.delete(`endpoints/${endpoint.id}`);
      }
      await carol.delete(
        `tiers/archive/files?path=${encodeURIComponent(folder)}`
      );
      await carol.dispose();
      await carolPage.context().close();
    }
  });
  test('an endpoint carol creates in the panel shows in the course form without a reload', async ({
    browser,
    playwright
  }) => {
    test.setTimeout(300_000);
    const name = `ui-live-${Date.now().toString(36)}`;
    const carolPage = await labAs(browser, 'carol');
    const carol = await bridgeApiOf(playwright, carolPage);
    try {
      const teacher = new CoursePage(carolPage);
      await teacher.open();
      const field = teacher.settings(COURSE).getByLabel(S.endpointField);
      await expect(field).toBeVisible();

      // Created from the Endpoints section of the same page.
      await teacher.panel
        .getByRole('region', { name: 'Endpoints' })
        .getByRole('button', { name: 'Create an endpoint' })
        .click();
      const dialog = carolPage.getByRole('dialog').filter({
        has: carolPage.locator('.jp-Dialog-header', {
          hasText: 'Create a model endpoint'
        })
      });
      await dialog.getByRole('textbox', { name: 'Name' }).fill(name);
      await dialog
        .getByRole('combobox', { name: 'Provider' })
        .selectOption('local');
      // On the bridge host an endpoint starts with no GPU.
      await expect(
        dialog.getByRole('spinbutton', { name: 'GPUs' })
      ).toHaveValue('0');
      await dialog.getByRole('button', { name: 'Create', exact: true }).click();
      await expect(dialog).toHaveCount(0);

      await expect(field.locator('option', { hasText: name })).toHaveCount(1);
    } finally {
      const { endpoints } = (await (await carol.get('endpoints')).json()) as {
        endpoints: IEndpoint[];
      };
      for (const endpoint of endpoints.filter(e => e.name === name)) {
        await carol.delete(`endpoints/${endpoint.id}`);
      }
      await carol.dispose();
      await carolPage.context().close();
    }
  });
});
