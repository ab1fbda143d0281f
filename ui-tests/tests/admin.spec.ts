/*
 * The Admin section through the real stack: the hub admin finds alice's access
 * to a sensitive file in the audit view by its path and exports it as CSV;
 * alice (not an admin) has no Admin section.
 */
import * as fs from 'fs';
import * as path from 'path';

import { expect, test } from './fixtures';
import { ADMIN_SELECTORS as S, AdminPage, labAs } from './helpers/admin-page';
import { HpcBridgePage } from './helpers/hpc-bridge-page';
import { StorageApi } from './helpers/storage-api';

const IMAGES = path.resolve(__dirname, '..', '..', 'docs', 'images');

test.describe('Admin', () => {
  test('alice does not see the Admin section', async ({ page }) => {
    const bridge = new HpcBridgePage(page);
    await bridge.open();
    await expect(bridge.jobs).toBeVisible();
    await expect(
      bridge.panel.getByRole('region', { name: S.adminRegion, exact: true })
    ).toHaveCount(0);
  });

  test("admin finds alice's sensitive file access by path and exports CSV", async ({
    browser,
    playwright
  }) => {
    // alice (the suite's user) writes a file on the sensitive tier of her group.
    const alice = await StorageApi.open(playwright);
    const file = `medical/ui-admin-${Date.now()}.csv`;
    await alice.put('sensitive', file, 'patient,value\n1,2\n');

    const page = await labAs(browser, 'admin');
    try {
      const admin = new AdminPage(page);
      await admin.open();
      await expect(admin.section).toBeVisible();
      await admin.section.scrollIntoViewIfNeeded();

      await admin.searchAudit({ tier: 'sensitive', path: path.basename(file) });
      const row = admin.records.getByRole('row').filter({ hasText: file });
      await expect(row).toHaveCount(1);
      await expect(row).toContainText('alice');
      await expect(row).toContainText('storage.write');

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        admin.section.getByRole('button', { name: S.exportCsv }).click()
      ]);
      expect(download.suggestedFilename()).toBe('audit.csv');
      const csv = fs.readFileSync((await download.path()) ?? '', 'utf8');
      const lines = csv.trim().split('\r\n');
      expect(lines[0]).toBe('id,ts,user,action,target,outcome,details');
      expect(lines.slice(1).join('\n')).toContain(
        `alice,storage.write,sensitive:${file},ok`
      );

      await admin.section.screenshot({
        path: path.join(IMAGES, 'admin-panel.png')
      });
    } finally {
      await page.context().close();
    }
  });
});
