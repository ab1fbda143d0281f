/*
 * Storage tiers through the real stack: the Storage section, a JupyterLab
 * drive per mounted tier (sftp scratch on the cluster, S3 project and
 * outreach on Swift), uploads through the file browser, share links.
 */
import * as fs from 'fs';
import * as path from 'path';

import { expect, test } from './fixtures';
import { StorageApi } from './helpers/storage-api';
import { StoragePage, STORAGE_SELECTORS } from './helpers/storage-page';
import { reopenLab, workspaceSaved } from './helpers/workspace';

const IMAGES = path.resolve(__dirname, '..', '..', 'docs', 'images');
/** Where Swift's S3 API answers the browser (direct uploads). */
const S3_ENDPOINT = 'http://127.0.0.1:8080/';

/** A CSV over 1 MB, so that the file browser uploads it in chunks. */
function bigCsv(rows: number): string {
  const lines = ['id,station,temperature'];
  for (let i = 0; i < rows; i++) {
    lines.push(`${i},station-${i % 97},${((i * 7) % 400) / 10}`);
  }
  return `${lines.join('\n')}\n`;
}

const run = (): string => Date.now().toString(36);

test.describe('Storage tiers', () => {
  test('mount scratch, upload a CSV through its file browser (chunked), open it in the CSV viewer', async ({
    page,
    playwright
  }) => {
    const api = await StorageApi.open(playwright);
    // Fixed names in a folder of its own: the screenshot shows only what
    // this test made, the same on every run.
    const folder = 'weather-study';
    const name = 'weather.csv';
    const csv = bigCsv(110_000);
    expect(csv.length).toBeGreaterThan(2 * 1024 * 1024);
    await api.remove('scratch', folder);
    await api.mkdir('scratch', folder);
    const storage = new StoragePage(page);
    try {
      await storage.bridge.open();
      await expect(storage.tier('scratch')).toBeVisible();
      await storage.mount('scratch');
      await expect(storage.browser('scratch')).toBeVisible();
      // The breadcrumbs say which tier this is.
      expect(await storage.crumbRoot('scratch')).toBe('scratch:');
      await storage.openFolder('scratch', folder);

      const chooser = page.waitForEvent('filechooser');
      await storage
        .browser('scratch')
        .getByRole('button', { name: /upload/i })
        .click();
      await (
        await chooser
      ).setFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(csv) });
      await expect(storage.item('scratch', name)).toBeVisible({
        timeout: 60_000
      });

      // Every byte arrived, as one file.
      expect(await api.size('scratch', `${folder}/${name}`)).toBe(
        Buffer.byteLength(csv)
      );
      // No temporary part file is left beside it.
      expect(await api.names('scratch', folder)).toEqual([name]);

      await storage.item('scratch', name).dblclick();
      const viewer = page.locator('.jp-CSVViewer');
      await expect(viewer).toBeVisible();
      // The document is loaded (spinner gone) and drawn by the CSV viewer's grid.
      await expect(page.locator('#jp-main-dock-panel .jp-Spinner')).toHaveCount(
        0,
        { timeout: 60_000 }
      );
      await expect(viewer.locator('.lm-DataGrid')).toBeVisible();
      await expect(
        page.getByRole('tab', { name: new RegExp(name.replace('.', '\\.')) })
      ).toBeVisible();
      await storage.bridge.widen(520);
      await page.screenshot({ path: path.join(IMAGES, 'storage-browser.png') });
    } finally {
      await api.remove('scratch', folder);
      await api.dispose();
    }
  });

  test('a CSV opened from a tier asks only the bridge, also when restored after a reload', async ({
    page,
    playwright
  }) => {
    const api = await StorageApi.open(playwright);
    const folder = `csv-${run()}`;
    const name = 'stations.csv';
    await api.mkdir('scratch', folder);
    await api.put('scratch', `${folder}/${name}`, 'id,station\n1,north\n');
    // The Jupyter server knows nothing of tiers: a tier path there is a 404.
    const askedServer: string[] = [];
    page.on('request', request => {
      const url = decodeURIComponent(request.url());
      if (url.includes('/api/contents') && url.includes(folder)) {
        askedServer.push(`${request.method()} ${url}`);
      }
    });
    const storage = new StoragePage(page);
    try {
      await storage.bridge.open();
      await storage.mount('scratch');
      await storage.showBrowser('scratch');
      await storage.openFolder('scratch', folder);
      const saved = workspaceSaved(page, folder);
      await storage.item('scratch', name).dblclick();
      const viewer = page.locator('.jp-CSVViewer');
      await expect(viewer.locator('.lm-DataGrid')).toBeVisible();

      // The workspace and the recent files bring the CSV back at start,
      // before the bridge has listed the tiers.
      await reopenLab(page, saved);
      await expect(viewer.locator('.lm-DataGrid')).toBeVisible();
      expect(askedServer).toEqual([]);
    } finally {
      await api.remove('scratch', folder);
      await api.dispose();
      await page.evaluate(() =>
        window.jupyterapp.commands.execute('application:close-all')
      );
    }
  });

  test('mount project and open a notebook from a group folder', async ({
    page,
    playwright
  }) => {
    const api = await StorageApi.open(playwright);
    const name = `analysis-${run()}.ipynb`;
    const notebook = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        {
          id: 'c0',
          cell_type: 'markdown',
          source: 'Shared analysis of ml101',
          metadata: {}
        }
      ]
    };
    await api.put('project', `ml101/${name}`, JSON.stringify(notebook));
    const storage = new StoragePage(page);
    try {
      await storage.bridge.open();
      await storage.mount('project');
      // The root of a {group} tier lists the user's groups.
      await expect(storage.item('project', 'ml101')).toBeVisible();
      await expect(storage.item('project', 'climate')).toBeVisible();
      // S3 folders are key prefixes without a time: none is shown, not "56y ago".
      await expect(
        storage.item('project', 'ml101').locator('.jp-DirListing-itemModified')
      ).toHaveText('');
      await storage.openFolder('project', 'ml101');
      await storage.item('project', name).dblclick();
      const panel = page.locator('.jp-NotebookPanel').filter({
        hasText: 'Shared analysis of ml101'
      });
      await expect(panel).toBeVisible();
    } finally {
      await api.remove('project', `ml101/${name}`);
      await api.dispose();
    }
  });

  test('share a file of outreach by link, open it anonymously; sensitive offers no link', async ({
    page,
    playwright,
    browser
  }) => {
    const api = await StorageApi.open(playwright);
    // A fixed name, so that the screenshot is the same on every run.
    const name = 'open-day-poster.txt';
    const content = 'Open day at the HPC centre, Saturday 10:00-16:00\n';
    // Links left by earlier use would change the list and the screenshot.
    await api.revokeLinks('outreach');
    await api.put('outreach', name, content);
    const storage = new StoragePage(page);
    try {
      await storage.bridge.open();
      await storage.mount('outreach');
      await storage.item('outreach', name).click({ button: 'right' });
      // JupyterLab's "Copy Shareable Link" opens only the server's own
      // files: a tier file's link is "Share Link…".
      await expect(
        page.getByRole('menuitem', { name: 'Copy Shareable Link' })
      ).toHaveCount(0);
      await page.getByRole('menuitem', { name: 'Share Link…' }).click();

      const ask = storage.bridge.dialog('Share a link to a file of Outreach');
      await expect(
        ask.getByRole('textbox', { name: /File in outreach/ })
      ).toHaveValue(name);
      await ask.getByRole('button', { name: 'Create link' }).click();
      const created = storage.bridge.dialog('Share link created');
      const field = created.getByRole('textbox', { name: `Link to ${name}` });
      await expect(field).toHaveValue(/\/public\/links\//);
      const url = await field.inputValue();
      await created.getByRole('button', { name: 'Close' }).click();

      // Anyone, without logging in.
      const anonymous = await browser.newContext();
      try {
        const visitor = await anonymous.newPage();
        // The bridge sends the file as an attachment: the browser downloads it.
        const download = visitor.waitForEvent('download');
        await visitor.goto(url).catch(() => null);
        const saved = await (await download).path();
        expect(fs.readFileSync(saved, 'utf8')).toBe(content);
      } finally {
        await anonymous.close();
      }

      await storage.bridge.open();
      const outreach = storage.tier('outreach');
      await expect(
        outreach.getByRole('list', { name: 'Share links' }).getByText(name)
      ).toBeVisible();

      const sensitive = storage.tier('sensitive');
      const refused = sensitive.getByRole('button', {
        name: STORAGE_SELECTORS.shareLink('sensitive')
      });
      await expect(refused).toBeDisabled();
      await expect(refused).toHaveAttribute(
        'title',
        'Share links are only possible on public tiers; sensitive is a sensitive tier.'
      );
      await expect(
        sensitive.getByRole('button', {
          name: STORAGE_SELECTORS.useInCode('sensitive')
        })
      ).toBeDisabled();
      // The bridge refuses too, whatever the panel shows.
      expect(
        await api.createLinkStatus('sensitive', 'medical/x.csv')
      ).toBeGreaterThanOrEqual(400);

      // The section from its title, whatever the sections above hold.
      await storage.section.evaluate(node =>
        node.scrollIntoView({ block: 'start' })
      );
      await page.screenshot({ path: path.join(IMAGES, 'storage-panel.png') });

      // Revoked: the link stops working.
      await outreach
        .getByRole('button', { name: `Revoke the link to ${name}` })
        .click();
      // The dialog's title names the link's path.
      await storage.bridge.confirm('Revoke the link to', 'Revoke');
      await expect(
        outreach.getByRole('list', { name: 'Share links' }).getByText(name)
      ).toHaveCount(0);
      const after = await playwright.request.newContext();
      expect((await after.get(url)).status()).toBeGreaterThanOrEqual(400);
      await after.dispose();
    } finally {
      // Links left by earlier use would change the list and the screenshot.
      await api.revokeLinks('outreach');
      await api.remove('outreach', name);
      await api.dispose();
    }
  });
  test('Download of an archive file: the browser saves it straight from S3 under its name', async ({
    page,
    playwright
  }) => {
    const api = await StorageApi.open(playwright);
    const name = `results-${run()}.csv`;
    const content = 'epoch,loss\n1,0.52\n2,0.31\n';
    await api.put('archive', name, content);
    const storage = new StoragePage(page);
    try {
      await storage.bridge.open();
      await storage.mount('archive');
      await storage.item('archive', name).click({ button: 'right' });
      const download = page.waitForEvent('download');
      await page
        .getByRole('menuitem', { name: 'Download', exact: true })
        .click();
      const saved = await download;
      // Not through the bridge: the page never holds the file.
      expect(saved.url().startsWith(S3_ENDPOINT)).toBe(true);
      expect(saved.suggestedFilename()).toBe(name);
      expect(fs.readFileSync((await saved.path()) ?? '', 'utf8')).toBe(content);
    } finally {
      await api.remove('archive', name);
      await api.dispose();
    }
  });

  test('New Notebook in a tier browser: created in the tier, opened with a kernel', async ({
    page,
    playwright
  }) => {
    const api = await StorageApi.open(playwright);
    const folder = `new-${run()}`;
    await api.mkdir('scratch', folder);
    const storage = new StoragePage(page);
    try {
      await storage.bridge.open();
      await storage.mount('scratch');
      await storage.showBrowser('scratch');
      await storage.openFolder('scratch', folder);
      await storage
        .browser('scratch')
        .getByRole('button', { name: 'New Notebook' })
        .click();
      await expect(
        page.getByRole('tab', { name: /Untitled\.ipynb/ })
      ).toBeVisible();
      await expect(storage.item('scratch', 'Untitled.ipynb')).toBeVisible();
      await expect(page.locator('.jp-NotebookPanel')).toBeVisible();
      expect(await api.names('scratch', folder)).toEqual(['Untitled.ipynb']);

      await storage
        .browser('scratch')
        .getByRole('button', { name: 'New File' })
        .click();
      // Created in the tier, and offered for renaming in the listing.
      await expect
        .poll(() => api.names('scratch', folder))
        .toContain('untitled.txt');
      await expect(
        storage.browser('scratch').locator('.jp-DirListing-editor')
      ).toHaveValue('untitled.txt');
      await page.keyboard.press('Escape');
    } finally {
      await api.remove('scratch', folder);
      await api.dispose();
      await page.evaluate(() =>
        window.jupyterapp.commands.execute('application:close-all')
      );
    }
  });

  test('Upload… a large file to archive straight to S3, with a progress bar', async ({
    page,
    playwright
  }, testInfo) => {
    const api = await StorageApi.open(playwright);
    const name = `survey-${run()}.bin`;
    // Several parts of a multipart upload (the bridge cuts 8 MiB or more).
    const size = 40 * 1024 * 1024 + 123;
    // From a file: a buffer this large crawls through the browser protocol as base64.
    const file = testInfo.outputPath(name);
    fs.writeFileSync(file, Buffer.alloc(size, 'hpc-bridge '));
    const toS3: string[] = [];
    const throughBridge: string[] = [];
    page.on('request', request => {
      if (request.method() !== 'PUT') {
        return;
      }
      if (request.url().startsWith(S3_ENDPOINT)) {
        toS3.push(request.url());
      } else if (request.url().includes('/tiers/archive/')) {
        throughBridge.push(request.url());
      }
    });
    const storage = new StoragePage(page);
    try {
      await storage.bridge.open();
      await storage
        .tierButton('archive', STORAGE_SELECTORS.upload('archive'))
        .click();
      const ask = storage.bridge.dialog('Upload to Archive');
      await expect(
        ask.getByRole('textbox', { name: /Folder in archive/ })
      ).toHaveValue('');
      const chooser = page.waitForEvent('filechooser');
      await ask.getByRole('button', { name: 'Choose files…' }).click();
      await (await chooser).setFiles(file);

      // At the tier clicked, and in the notifications with a done message.
      await expect(storage.progress('archive', name)).toBeVisible();
      await expect(
        storage.transfer('archive', name).locator('.jp-hpc-Transfer-status')
      ).toHaveText('done', { timeout: 110_000 });
      await expect(storage.progress('archive', name)).toHaveAttribute(
        'aria-valuenow',
        '100'
      );
      await expect(
        page.getByText(STORAGE_SELECTORS.uploaded(name, 'archive'))
      ).toBeVisible();

      expect(await api.size('archive', name)).toBe(size);
      // The parts went from the browser to Swift, not through the bridge.
      expect(toS3.length).toBeGreaterThan(1);
      expect(throughBridge).toEqual([]);
    } finally {
      await api.remove('archive', name);
      await api.dispose();
    }
  });

  test('Copy to tier… scratch → archive on the server, with progress', async ({
    page,
    playwright
  }) => {
    const api = await StorageApi.open(playwright);
    const name = `results-${run()}.bin`;
    const size = 6 * 1024 * 1024 + 7;
    await api.put('scratch', name, Buffer.alloc(size, 'result '));
    const storage = new StoragePage(page);
    try {
      await storage.bridge.open();
      await storage
        .tierButton('scratch', STORAGE_SELECTORS.copyToTier('scratch'))
        .click();
      const ask = storage.bridge.dialog('Copy from Scratch to another tier');
      await ask.getByRole('textbox', { name: 'From scratch' }).fill(name);
      await ask
        .getByRole('combobox', { name: 'To tier' })
        .selectOption('archive');
      await expect(ask.getByRole('textbox', { name: 'To path' })).toHaveValue(
        name
      );
      await ask.getByRole('button', { name: 'Copy', exact: true }).click();

      const label = `scratch:${name} → archive:${name}`;
      await expect(storage.progress('scratch', label)).toBeVisible();
      await expect(
        storage.transfer('scratch', label).locator('.jp-hpc-Transfer-status')
      ).toHaveText('done', { timeout: 110_000 });

      await storage.mount('archive');
      await expect(storage.item('archive', name)).toBeVisible();
      expect(await api.size('archive', name)).toBe(size);
      // A copy: the source stays.
      expect(await api.size('scratch', name)).toBe(size);
    } finally {
      await api.remove('archive', name);
      await api.remove('scratch', name);
      await api.dispose();
    }
  });
});
