/*
 * Pipelines through the real stack, as a researcher sets one up in the panel: "when a
 * CSV lands in project:ml101/…/incoming, run clean.ipynb on it and put the result in
 * the archive" — the trigger's run submits the job on SLURM, the job's page shows the
 * CSV it read and the result it wrote, and the result's lineage names the CSV.
 */
import * as path from 'path';

import { expect, test } from './fixtures';
import { saveNotebook, userApi } from './helpers/contents';
import { HpcBridgePage } from './helpers/hpc-bridge-page';
import { StorageApi } from './helpers/storage-api';

const IMAGES = path.resolve(__dirname, '..', '..', 'docs', 'images');
/** A scan every 5 s, SLURM, papermill and the stage-out, on a loaded machine. */
const RUN_TIMEOUT = 150_000;

const CLEAN = [
  { source: 'trigger_uri = ""', tags: ['parameters'] },
  {
    source: [
      'import os',
      "rows = open(os.environ['HPCB_INPUT_0']).read().strip().splitlines()[1:]",
      "open(os.environ['HPCB_OUTPUT_0'], 'w').write(f'{len(rows)} rows\\n')"
    ].join('\n')
  }
];

test.describe('Pipelines', () => {
  test('a trigger set up in the panel runs a notebook on a new CSV; the result traces back to it', async ({
    page,
    playwright,
    tmpPath
  }) => {
    const run = Date.now().toString(36);
    const folder = `ml101/ui-${run}/incoming`;
    const name = `clean-${run}`;
    const notebook = `${tmpPath}/clean.ipynb`;
    const contents = await userApi(playwright);
    await saveNotebook(contents, notebook, CLEAN);
    await contents.dispose();
    const storage = await StorageApi.open(playwright);
    await storage.mkdir('project', folder);

    const bridge = new HpcBridgePage(page);
    await bridge.open();
    const section = bridge.section('Pipelines');
    await section.scrollIntoViewIfNeeded();
    await section.getByRole('button', { name: 'Create a trigger' }).click();
    const dialog = bridge.dialog('Create a trigger');
    const form = dialog.getByTestId('hpc-trigger-form');
    const field = (name: string) =>
      form.getByRole('textbox', { name, exact: true });
    await field('Trigger name').fill(name);
    await form
      .getByRole('combobox', { name: 'Tier', exact: true })
      .selectOption('project');
    await field('Folder').fill(folder);
    await field('Only names matching (optional)').fill('*.csv');
    await field('Notebook').fill(notebook);
    // The default destination: the archive tier, a folder per job.
    await expect(field('Results to (optional)')).toHaveValue(
      'archive:results/{job}/'
    );
    await field('Results to (optional)').fill(
      `archive:ui-${run}/{job}/rows.txt`
    );
    await expect(form.getByTestId('hpc-trigger-preview')).toContainText(
      `project:${folder}/`
    );
    await dialog.getByRole('button', { name: 'Create', exact: true }).click();
    await expect(dialog).toHaveCount(0);

    const trigger = section.getByRole('listitem', { name: `Trigger ${name}` });
    await expect(trigger).toBeVisible();
    await expect(trigger.getByTestId('hpc-trigger-state')).toHaveText(
      /active/i
    );

    // A CSV lands in the folder (another client, as a file would arrive).
    await storage.put('project', `${folder}/train.csv`, 'x,y\n1,2\n3,4\n');
    await storage.dispose();
    const runRow = trigger.getByTestId('hpc-trigger-run').first();
    const jobLink = runRow.getByTestId('hpc-run-job');
    await expect(jobLink).toBeVisible({ timeout: RUN_TIMEOUT });
    await expect(runRow).toContainText(/done/i, { timeout: RUN_TIMEOUT });
    await trigger.screenshot({
      path: path.join(IMAGES, 'pipelines-panel.png')
    });

    // The job's page: the CSV it read, the folder it wrote, both traced.
    await jobLink.click();
    const data = page.getByTestId('hpc-job-data');
    await expect(data).toBeVisible();
    await expect(data.getByRole('list', { name: 'Inputs' })).toContainText(
      `project:${folder}/train.csv`
    );
    const output = data.getByTestId('hpc-job-output');
    await expect(output).toContainText('copied');
    await output.getByRole('button', { name: /^Lineage of / }).click();
    const lineage = page.getByTestId('hpc-lineage');
    await expect(lineage).toContainText('train.csv');
    await expect(lineage.getByTestId('hpc-lineage-job')).toBeVisible();
    await expect(lineage.getByTestId('hpc-lineage-rerun')).toBeEnabled();
    await lineage.screenshot({
      path: path.join(IMAGES, 'lineage-dialog.png')
    });
    await page.keyboard.press('Escape');

    // Deleting asks first; the trigger goes, its job stays.
    await trigger.getByRole('button', { name: `Delete ${name}` }).click();
    await bridge.confirm(`Delete trigger ${name}?`, 'Delete');
    await expect(trigger).toHaveCount(0);
  });
});
