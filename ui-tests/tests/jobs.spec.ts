/*
 * Notebook and cell jobs through the real stack: the notebook toolbar, the
 * Submit dialog, the bridge, SLURM, and the outputs back in JupyterLab.
 */
import * as path from 'path';

import { expect, test } from './fixtures';
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { PlaywrightWorkerArgs } from '@playwright/test';

import { saveNotebook, userApi, type ITestCell } from './helpers/contents';
import { HpcBridgePage, SELECTORS } from './helpers/hpc-bridge-page';

const IMAGES = path.resolve(__dirname, '..', '..', 'docs', 'images');
/** SLURM runs these in seconds; the margin is for a loaded 2-core machine. */
const JOB_TIMEOUT = 120_000;

/** Saves a notebook on the user's server, opens it and shows the HPC Bridge panel. */
async function openWithPanel(
  page: IJupyterLabPageFixture,
  playwright: PlaywrightWorkerArgs['playwright'],
  notebook: string,
  cells: ITestCell[]
): Promise<HpcBridgePage> {
  const api = await userApi(playwright);
  await saveNotebook(api, notebook, cells);
  await api.dispose();
  const bridge = new HpcBridgePage(page);
  await page.notebook.openByPath(notebook);
  await bridge.open();
  return bridge;
}

test.describe('Jobs', () => {
  test('submit a parameterised notebook from the toolbar, watch it complete, open the output', async ({
    page,
    playwright,
    tmpPath
  }) => {
    const notebook = `${tmpPath}/double.ipynb`;
    const name = `double-${Date.now().toString(36)}`;
    const bridge = await openWithPanel(page, playwright, notebook, [
      { source: 'x = 1', tags: ['parameters'] },
      { source: 'y = x * 2\nprint(f"y = {y}")' }
    ]);
    const dialog = await bridge.openSubmitDialog();
    await expect(dialog).toBeVisible();
    // Pre-filled from the cell tagged "parameters".
    await expect(dialog.getByLabel('Value of x')).toHaveValue('1');
    await dialog.getByLabel('Value of x').fill('21');
    await dialog.getByLabel('Job name').fill(name);
    await expect(
      dialog.getByRole('status', { name: 'Expected start' })
    ).toContainText('Expected start');
    await dialog.screenshot({ path: path.join(IMAGES, 'submit-dialog.png') });
    await dialog.getByRole('button', { name: 'Submit' }).click();
    await expect(dialog).toBeHidden();

    const row = bridge.jobRow(name);
    await expect(row).toHaveCount(1);
    await expect(bridge.jobState(name)).toHaveText('COMPLETED', {
      timeout: JOB_TIMEOUT
    });
    await expect(row.getByRole('progressbar')).toHaveAttribute(
      'aria-valuetext',
      /cell (\d+) of \1/
    );
    const jobId = await row.getAttribute('data-job-id');
    expect(jobId).toMatch(/^[0-9a-f]{12}$/);

    await page.screenshot({ path: path.join(IMAGES, 'jobs-panel.png') });

    await bridge.jobAction(name, 'Open output');
    await bridge.expectOutput(`double.job-${jobId}.ipynb`, 'y = 42');
  });

  test('a sweep from the dialog runs as one array with an output per value', async ({
    page,
    playwright,
    tmpPath
  }) => {
    const notebook = `${tmpPath}/sweep.ipynb`;
    const name = `sweep-${Date.now().toString(36)}`;
    const bridge = await openWithPanel(page, playwright, notebook, [
      { source: 'x = 1', tags: ['parameters'] },
      { source: 'print(f"y = {x * 2}")' }
    ]);
    const dialog = await bridge.openSubmitDialog();
    await dialog.getByLabel('Job name').fill(name);
    await dialog.getByLabel('Sweep values of x').fill('1, 2, 3');
    await expect(dialog).toContainText('3 jobs in one array');
    await dialog.getByRole('button', { name: 'Submit' }).click();
    await expect(dialog).toBeHidden();

    await expect(bridge.jobState(name)).toHaveText('COMPLETED', {
      timeout: JOB_TIMEOUT
    });
    const row = bridge.jobRow(name);
    const jobId = await row.getAttribute('data-job-id');
    await bridge.jobAction(name, 'Details');
    const elements = bridge
      .jobPage(jobId ?? '')
      .getByRole('list', { name: 'Array elements' });
    await expect(elements.getByRole('listitem')).toHaveCount(3);
    await elements
      .getByRole('listitem', { name: 'Element 2' })
      .getByRole('button', { name: 'Open output' })
      .click();
    await bridge.expectOutput(`sweep.job-${jobId}-2.ipynb`, 'y = 6');
  });

  test('run selected cells on the cluster: outputs land under their cells', async ({
    page,
    playwright,
    tmpPath
  }) => {
    const notebook = `${tmpPath}/cells.ipynb`;
    const bridge = await openWithPanel(page, playwright, notebook, [
      { source: 'base = 40', tags: ['setup'] },
      { source: 'print(f"answer = {base + 2}")' },
      { source: 'print("this cell was not selected")' }
    ]);
    await page.notebook.selectCells(1);
    await page.notebook
      .getCellLocator(1)
      .then(cell => cell!.click({ button: 'right' }));
    await page.getByRole('menuitem', { name: SELECTORS.runCellsMenu }).click();

    const dialog = bridge.dialog(SELECTORS.cellsDialog);
    await expect(dialog).toBeVisible();
    await dialog.getByRole('button', { name: 'Submit' }).click();
    await expect(dialog).toBeHidden();

    const selected = (await page.notebook.getCellLocator(1))!;
    await expect(selected.locator('.jp-OutputArea-output')).toContainText(
      'answer = 42',
      { timeout: JOB_TIMEOUT }
    );
    await expect(
      selected.locator('.jp-OutputArea-output').first()
    ).toContainText(/\[HPC Bridge job [0-9a-f]{12}\]/);
    const unselected = (await page.notebook.getCellLocator(2))!;
    await expect(unselected.locator('.jp-OutputArea-output')).toHaveCount(0);

    await page.screenshot({ path: path.join(IMAGES, 'cell-job.png') });
  });

  test('a cell job with a storage tier gets its location in the environment', async ({
    page,
    playwright,
    tmpPath
  }) => {
    const notebook = `${tmpPath}/tiers.ipynb`;
    const bridge = await openWithPanel(page, playwright, notebook, [
      { source: 'import os', tags: ['setup'] },
      { source: 'print("scratch at", os.environ["HPCB_TIER_SCRATCH"])' }
    ]);
    await page.notebook.selectCells(1);
    // Beside JupyterLab's Run items, in the Run menu too.
    await page.menu.clickMenuItem(`Run>${SELECTORS.runCellsMenu}`);
    const dialog = bridge.dialog(SELECTORS.cellsDialog);
    const scratch = bridge.tierCheckbox(dialog, 'Scratch');
    await expect(scratch).toBeVisible();
    await expect(
      dialog.getByRole('group', { name: 'Storage tiers (optional)' })
    ).toContainText('Sensitive (medical) sensitive');
    await scratch.check();
    await dialog.getByRole('button', { name: 'Submit' }).click();
    await expect(dialog).toBeHidden();

    const cell = (await page.notebook.getCellLocator(1))!;
    await expect(cell.locator('.jp-OutputArea-output')).toContainText(
      'scratch at /scratch/alice',
      { timeout: JOB_TIMEOUT }
    );
  });

  test('a sensitive tier on a partition that is not compliant disables Submit and offers the compliant profile', async ({
    page,
    playwright,
    tmpPath
  }) => {
    const notebook = `${tmpPath}/sensitive.ipynb`;
    const bridge = await openWithPanel(page, playwright, notebook, [
      { source: 'print("never runs")' }
    ]);
    const dialog = await bridge.openSubmitDialog();
    const submit = dialog.getByRole('button', { name: 'Submit', exact: true });
    // cpu-small runs on partition cpu; the demo config marks only gpu compliant.
    await dialog.getByLabel('Profile').selectOption('cpu-small');
    // cpu-small allows no GPU: no GPUs field.
    await expect(dialog.getByLabel('CPUs')).toBeVisible();
    await expect(dialog.getByLabel('GPUs')).toHaveCount(0);
    const sensitive = bridge.tierCheckbox(dialog, 'Sensitive (medical)');
    await sensitive.check();
    await expect(dialog.getByRole('note')).toContainText(
      'the job may run only on a partition approved for it'
    );
    // The estimate tells the dialog the rule: shown at the tiers, Submit disabled.
    const refusal = dialog
      .getByRole('group', { name: 'Storage tiers (optional)' })
      .getByRole('alert');
    await expect(refusal).toContainText(
      "Refused by the data-class rule 'sensitive data only on compliant partitions'"
    );
    await expect(submit).toBeDisabled();

    // The compliant profile, one click away.
    await refusal.getByRole('button', { name: 'Use One GPU' }).click();
    await expect(dialog.getByLabel('Profile')).toHaveValue('gpu-1');
    await expect(refusal).toHaveCount(0);
    await expect(submit).toBeEnabled();
    await expect(dialog.getByLabel('GPUs')).toBeVisible();
    await expect(sensitive).toBeChecked();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toBeHidden();
  });

  test('cancelling a job asks first', async ({ page, playwright, tmpPath }) => {
    const notebook = `${tmpPath}/sleep.ipynb`;
    const name = `sleep-${Date.now().toString(36)}`;
    const bridge = await openWithPanel(page, playwright, notebook, [
      { source: 'import time\ntime.sleep(600)' }
    ]);
    const dialog = await bridge.openSubmitDialog();
    await dialog.getByLabel('Job name').fill(name);
    await dialog.getByRole('button', { name: 'Submit', exact: true }).click();
    await expect(dialog).toBeHidden();

    await bridge.jobAction(name, 'Cancel');
    // Cancel in the confirmation keeps the job.
    const confirm = bridge.dialog(`Cancel job ${name}?`);
    await confirm.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expect(confirm).toHaveCount(0);
    await expect(bridge.jobState(name)).not.toHaveText('CANCELLED');

    await bridge.jobAction(name, 'Cancel');
    await bridge.confirm(`Cancel job ${name}?`, 'Cancel job');
    await expect(bridge.jobState(name)).toHaveText('CANCELLED', {
      timeout: JOB_TIMEOUT
    });
  });
});
