/*
 * Reloading the lab as a returning user would: galata opens each test's page with
 * `?reset` (a fresh workspace), and a plain reload would reset it again.
 */
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';

/**
 * A promise of JupyterLab's next workspace save that holds `marker` (a state key, a
 * widget's id or path). Call it before the change: the save is debounced.
 */
export function workspaceSaved(
  page: IJupyterLabPageFixture,
  marker: string
): Promise<unknown> {
  return page.waitForRequest(
    request =>
      request.method() === 'PUT' &&
      /\/api\/workspaces\//.test(request.url()) &&
      (request.postData() ?? '').includes(marker)
  );
}

/**
 * Opens the lab again with the workspace JupyterLab saved (no `?reset`). Through the
 * frame, not galata's `goto`: that waits for the Launcher to be the active tab, which a
 * restored workspace need not have.
 */
export async function reopenLab(
  page: IJupyterLabPageFixture,
  saved: Promise<unknown>
): Promise<void> {
  await saved;
  const url = new URL(page.url());
  url.search = '';
  await page
    .mainFrame()
    .goto(url.toString(), { waitUntil: 'domcontentloaded' });
  await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });
}
