/*
 * galata's test, adapted to a single-user server behind JupyterHub.
 */
import * as path from 'path';

import { test as galataTest } from '@jupyterlab/galata';
import type { APIRequestContext } from '@playwright/test';

import { contentsUrl, userApi } from './helpers/contents';

export { expect } from '@jupyterlab/galata';

interface IContentsModel {
  path: string;
  type: string;
  content: IContentsModel[] | null;
}

/** Deletes a folder and what it holds (jupyter-server 1.23 refuses non-empty ones). */
async function deleteTree(
  api: APIRequestContext,
  itemPath: string
): Promise<void> {
  const response = await api.get(contentsUrl(itemPath));
  if (response.status() === 404) {
    return;
  }
  const model = (await response.json()) as IContentsModel;
  for (const child of model.content ?? []) {
    if (child.type === 'directory') {
      await deleteTree(api, child.path);
    } else {
      await api.delete(contentsUrl(child.path));
    }
  }
  await api.delete(contentsUrl(itemPath));
}

export const test = galataTest.extend({
  // galata's own tmpPath calls /api/contents at the host root, which is the
  // hub here, not the user's server (/user/NAME/api/contents).
  tmpPath: async ({ playwright, serverFiles }, use, testInfo) => {
    const api = await userApi(playwright);
    const folder = `ui-tests-${path.basename(testInfo.outputDir).replace(/-retry\d+$/i, '')}`;
    await deleteTree(api, folder);
    const created = await api.put(contentsUrl(folder), {
      data: { type: 'directory' }
    });
    if (!created.ok()) {
      throw new Error(
        `Cannot create ${folder} on the user's server: HTTP ${created.status()} ${await created.text()}`
      );
    }
    await use(folder);
    const keep =
      serverFiles === 'on' ||
      (serverFiles === 'only-on-failure' &&
        testInfo.status !== testInfo.expectedStatus);
    if (!keep) {
      await deleteTree(api, folder);
    }
    await api.dispose();
  }
});
