/*
 * Files on the user's server through its REST API (the user's own token).
 */
import * as fs from 'fs';

import type { APIRequestContext, PlaywrightWorkerArgs } from '@playwright/test';

import { TOKEN_FILE, USER_SERVER_URL } from '../../hub';

export function contentsUrl(itemPath: string): string {
  return `${USER_SERVER_URL}/api/contents/${itemPath.split('/').map(encodeURIComponent).join('/')}`;
}

export async function userApi(
  playwright: PlaywrightWorkerArgs['playwright']
): Promise<APIRequestContext> {
  const token = fs.readFileSync(TOKEN_FILE, 'utf8').trim();
  return playwright.request.newContext({
    extraHTTPHeaders: { Authorization: `token ${token}` }
  });
}

export interface ITestCell {
  source: string;
  tags?: string[];
}

/** Saves a notebook of code cells (nbformat 4.5) at `path`. */
export async function saveNotebook(
  api: APIRequestContext,
  path: string,
  cells: ITestCell[]
): Promise<void> {
  const content = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: {
        name: 'python3',
        display_name: 'Python 3',
        language: 'python'
      }
    },
    cells: cells.map((cell, i) => ({
      id: `cell-${i}`,
      cell_type: 'code',
      source: cell.source,
      metadata: cell.tags ? { tags: cell.tags } : {},
      outputs: [],
      execution_count: null
    }))
  };
  const res = await api.put(contentsUrl(path), {
    data: { type: 'notebook', format: 'json', content }
  });
  if (!res.ok()) {
    throw new Error(
      `Cannot save ${path}: HTTP ${res.status()} ${await res.text()}`
    );
  }
}
