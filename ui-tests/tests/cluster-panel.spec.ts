/*
 * The HPC Bridge side panel through the real stack: JupyterHub, the bridge,
 * SLURM (partitions cpu and gpu, 2 fake GPUs).
 */
import * as path from 'path';

import { HUB_USER } from '../hub';
import { expect, test } from './fixtures';
import { HpcBridgePage, SELECTORS } from './helpers/hpc-bridge-page';

const SCREENSHOT = path.resolve(
  __dirname,
  '..',
  '..',
  'docs',
  'images',
  'cluster-panel.png'
);

test.describe('HPC Bridge panel', () => {
  test('shows the cluster partitions and GPUs', async ({ page }) => {
    const bridge = new HpcBridgePage(page);
    await bridge.open();

    await expect(bridge.cluster).toBeVisible();
    await expect(bridge.partitionRow('cpu')).toHaveCount(1);
    await expect(bridge.partitionRow('gpu')).toHaveCount(1);
    // The gpu partition's node has 2 (fake) GPUs: "idle / total".
    const gpus = await bridge.cell('gpu', SELECTORS.gpuColumn);
    await expect(gpus).toHaveText(/\/\s*2\s*$/);

    await expect(gpus).toBeInViewport();
    await page.screenshot({ path: SCREENSHOT });
  });

  test('names the user in the status bar', async ({ page }) => {
    const bridge = new HpcBridgePage(page);
    await expect(bridge.statusItem).toHaveText(SELECTORS.statusText(HUB_USER));
  });
});
