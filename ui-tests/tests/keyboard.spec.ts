/*
 * Keyboard only: a notebook submitted and an endpoint created with Tab, Enter
 * and Space (and typing into fields), no mouse, through the real stack.
 */
import { expect, test } from './fixtures';
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import { saveNotebook, userApi } from './helpers/contents';
import { EndpointsApi } from './helpers/endpoints-api';
import {
  ENDPOINT_SELECTORS as ES,
  EndpointsPage
} from './helpers/endpoints-page';
import { HpcBridgePage, SELECTORS } from './helpers/hpc-bridge-page';

/** SLURM runs these in seconds; the margin is for a loaded 2-core machine. */
const JOB_TIMEOUT = 120_000;

/** Runs a palette command by its label, from the keyboard. */
async function runFromPalette(
  page: IJupyterLabPageFixture,
  label: string
): Promise<void> {
  const palette = page.locator('#command-palette');
  await page.evaluate(() => window.jupyterapp.restored);
  // The modal palette closes when the focus leaves it, and a lab that has just started
  // may still move the focus: open it until it stays open with the command chosen.
  await expect(async () => {
    if (!(await palette.isVisible())) {
      await page.keyboard.press('Control+Shift+C');
    }
    await palette.locator('input').fill(label, { timeout: 2000 });
    await expect(
      palette.locator('.lm-CommandPalette-item.lm-mod-active')
    ).toContainText(label, { timeout: 2000 });
  }).toPass({ timeout: 30_000 });
  await page.keyboard.press('Enter');
}

/** Presses Tab until `target` has the focus (at most `limit` times). */
async function tabTo(
  page: IJupyterLabPageFixture,
  target: Locator,
  limit = 60
): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (await target.evaluate(node => node === document.activeElement)) {
      return;
    }
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${target.toString()}`);
}

test.describe('Keyboard only', () => {
  test('submit a notebook with the keyboard', async ({
    page,
    playwright,
    tmpPath
  }) => {
    const notebook = `${tmpPath}/keyboard.ipynb`;
    const name = `keys-${Date.now().toString(36)}`;
    const api = await userApi(playwright);
    await saveNotebook(api, notebook, [
      { source: 'print("typed, not clicked")' }
    ]);
    await api.dispose();
    const bridge = new HpcBridgePage(page);
    await page.notebook.openByPath(notebook);
    await bridge.open();
    await page.notebook.activate(notebook.split('/').pop() ?? notebook);
    // Once the kernel is up, the notebook no longer takes the focus.
    await expect(page.locator(SELECTORS.statusBar)).toContainText('Idle', {
      timeout: 60_000
    });

    await runFromPalette(page, SELECTORS.submitButton);
    const dialog = bridge.dialog(SELECTORS.submitDialog);
    await expect(dialog).toBeVisible();
    // The focus starts in the first field, the job name.
    await expect(dialog.getByLabel('Job name')).toBeFocused();
    await page.keyboard.press('Control+A');
    await page.keyboard.type(name);
    // Space ticks a tier.
    const scratch = bridge.tierCheckbox(dialog, 'Scratch');
    await tabTo(page, scratch);
    await page.keyboard.press('Space');
    await expect(scratch).toBeChecked();
    await tabTo(
      page,
      dialog.getByRole('button', { name: 'Submit', exact: true })
    );
    await page.keyboard.press('Enter');
    await expect(dialog).toBeHidden();

    await expect(bridge.jobState(name)).toHaveText('COMPLETED', {
      timeout: JOB_TIMEOUT
    });
  });

  test('create an endpoint with the keyboard', async ({ page, playwright }) => {
    const api = await EndpointsApi.open(playwright);
    const name = `keys-${Date.now().toString(36)}`;
    const endpoints = new EndpointsPage(page);
    try {
      await endpoints.bridge.open();
      await runFromPalette(page, 'Create Model Endpoint…');
      const dialog = endpoints.bridge.dialog(ES.createDialog);
      await expect(dialog).toBeVisible();
      await expect(dialog.getByRole('textbox', { name: 'Name' })).toBeFocused();
      await page.keyboard.type(name);
      // The defaults (first model, the bridge host, no GPU) are kept.
      await expect(
        dialog.getByRole('spinbutton', { name: 'GPUs' })
      ).toHaveValue('0');
      await tabTo(
        page,
        dialog.getByRole('button', { name: 'Create', exact: true })
      );
      await page.keyboard.press('Enter');
      await expect(dialog).toHaveCount(0);

      await expect(endpoints.endpoint(name)).toBeVisible();
      expect(await api.find(name)).not.toBeNull();
    } finally {
      await api.removeByName(name);
      await api.dispose();
    }
  });
});
