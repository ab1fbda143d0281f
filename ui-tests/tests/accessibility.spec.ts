/*
 * Accessibility of the HPC Bridge panel and its dialogs, checked with axe:
 * no serious or critical violation (names of controls, labels, contrast),
 * in the light and the dark theme.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';

import { expect, test } from './fixtures';
import { saveNotebook, userApi } from './helpers/contents';
import { ENDPOINT_SELECTORS, EndpointsPage } from './helpers/endpoints-page';
import { HpcBridgePage, SELECTORS } from './helpers/hpc-bridge-page';

/** The content of the open JupyterLab dialog. */
const DIALOG = '.jp-Dialog-content';

/**
 * The serious and critical violations of axe's rules inside `selector`, one
 * line each (rule, impact, help and the elements), so that a failure says
 * what to fix.
 */
async function seriousViolations(
  page: Page,
  selector: string
): Promise<string[]> {
  const results = await new AxeBuilder({ page }).include(selector).analyze();
  return results.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(
      v =>
        `${v.id} (${v.impact}): ${v.help}: ${v.nodes
          .map(node => node.target.join(' '))
          .join(', ')}`
    );
}

/** Shows the panel with its cluster and jobs loaded. */
async function openLoadedPanel(bridge: HpcBridgePage): Promise<void> {
  await bridge.open();
  await expect(bridge.cluster).toBeVisible();
  await expect(bridge.partitionRow('cpu')).toHaveCount(1);
  await expect(bridge.jobs).toBeVisible();
}

test.describe('Accessibility', () => {
  test('the HPC Bridge panel has no serious or critical axe violation', async ({
    page
  }) => {
    const bridge = new HpcBridgePage(page);
    await openLoadedPanel(bridge);
    expect(await seriousViolations(page, `#${SELECTORS.panelId}`)).toEqual([]);
  });

  test('the HPC Bridge panel has no serious or critical axe violation in the dark theme', async ({
    page
  }) => {
    await page.theme.setDarkTheme();
    const bridge = new HpcBridgePage(page);
    await openLoadedPanel(bridge);
    expect(await seriousViolations(page, `#${SELECTORS.panelId}`)).toEqual([]);
  });

  test('the submit dialog has no serious or critical axe violation', async ({
    page,
    playwright,
    tmpPath
  }) => {
    const notebook = `${tmpPath}/axe.ipynb`;
    const api = await userApi(playwright);
    await saveNotebook(api, notebook, [
      { source: 'x = 1', tags: ['parameters'] },
      { source: 'print(x)' }
    ]);
    await api.dispose();
    const bridge = new HpcBridgePage(page);
    await page.notebook.openByPath(notebook);
    const dialog = await bridge.openSubmitDialog();
    await expect(dialog).toBeVisible();
    // Profiles loaded and the estimate asked: the dialog as the user sees it.
    await expect(dialog.getByLabel('Value of x')).toHaveValue('1');
    await expect(
      dialog.getByRole('status', { name: 'Expected start' })
    ).toContainText('Expected start');
    expect(await seriousViolations(page, DIALOG)).toEqual([]);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toBeHidden();
  });

  test('the New endpoint dialog has no serious or critical axe violation', async ({
    page
  }) => {
    const endpoints = new EndpointsPage(page);
    await endpoints.bridge.open();
    await endpoints.section.scrollIntoViewIfNeeded();
    await endpoints.section
      .getByRole('button', { name: ENDPOINT_SELECTORS.create })
      .click();
    const dialog = endpoints.bridge.dialog(ENDPOINT_SELECTORS.createDialog);
    await expect(dialog).toBeVisible();
    await expect(dialog.getByRole('textbox', { name: 'Name' })).toBeVisible();
    expect(await seriousViolations(page, DIALOG)).toEqual([]);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toBeHidden();
  });

  test('the Create a trigger dialog has no serious or critical axe violation', async ({
    page
  }) => {
    const bridge = new HpcBridgePage(page);
    await bridge.open();
    const section = bridge.section('Pipelines');
    await section.scrollIntoViewIfNeeded();
    await section.getByRole('button', { name: 'Create a trigger' }).click();
    const dialog = bridge.dialog('Create a trigger');
    await expect(
      dialog.getByRole('textbox', { name: 'Trigger name' })
    ).toBeVisible();
    expect(await seriousViolations(page, DIALOG)).toEqual([]);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toBeHidden();
  });
});
