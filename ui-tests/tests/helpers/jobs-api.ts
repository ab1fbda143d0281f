/*
 * The bridge's jobs API as the test user, to prepare what the UI shows.
 */
import * as fs from 'fs';

import type { APIRequestContext, PlaywrightWorkerArgs } from '@playwright/test';

import { HUB_URL, TOKEN_FILE } from '../../hub';

const BRIDGE_API = `${HUB_URL}/services/hpc-bridge/api/v1`;

/** A notebook whose cell tagged "parameters" sets `x`, then prints it. */
const NOTEBOOK = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [
    {
      cell_type: 'code',
      id: 'params',
      metadata: { tags: ['parameters'] },
      source: 'x = 1',
      outputs: [],
      execution_count: null
    },
    {
      cell_type: 'code',
      id: 'print',
      metadata: {},
      source: 'print(f"x = {x}")',
      outputs: [],
      execution_count: null
    }
  ]
};

export class JobsApi {
  private constructor(private readonly _request: APIRequestContext) {}

  /** Logged in with the test user's own hub token. */
  static async open(
    playwright: PlaywrightWorkerArgs['playwright']
  ): Promise<JobsApi> {
    const token = fs.readFileSync(TOKEN_FILE, 'utf8').trim();
    return new JobsApi(
      await playwright.request.newContext({
        extraHTTPHeaders: { Authorization: `token ${token}` }
      })
    );
  }

  /** How many jobs the user has. */
  async count(): Promise<number> {
    const response = await this._request.get(`${BRIDGE_API}/jobs`);
    return ((await response.json()) as { jobs: unknown[] }).jobs.length;
  }

  /** Submits a small notebook with parameter `x`; resolves with the job id. */
  async submit(name: string, x: number): Promise<string> {
    const profiles = (await (
      await this._request.get(`${BRIDGE_API}/profiles`)
    ).json()) as { profiles: Array<{ name: string }> };
    const response = await this._request.post(`${BRIDGE_API}/jobs`, {
      data: {
        name,
        notebook: { path: 'ui-tests/pages.ipynb', content: NOTEBOOK },
        profile: profiles.profiles[0]?.name ?? '',
        parameters: { x }
      }
    });
    if (!response.ok()) {
      throw new Error(
        `Cannot submit ${name}: HTTP ${response.status()} ${await response.text()}`
      );
    }
    return ((await response.json()) as { id: string }).id;
  }

  async dispose(): Promise<void> {
    await this._request.dispose();
  }
}
