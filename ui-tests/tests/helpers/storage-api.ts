/*
 * The bridge's storage API as the test user, to prepare and check what the
 * UI does and to clean up after it.
 */
import * as fs from 'fs';

import type { APIRequestContext, PlaywrightWorkerArgs } from '@playwright/test';

import { HUB_URL, TOKEN_FILE } from '../../hub';

export const BRIDGE_API = `${HUB_URL}/services/hpc-bridge/api/v1`;

interface IShareLink {
  id: string;
  tier: string;
  path: string;
  revokedAt: string | null;
}

export class StorageApi {
  private constructor(private readonly _request: APIRequestContext) {}

  /** Logged in with the test user's own hub token. */
  static async open(
    playwright: PlaywrightWorkerArgs['playwright']
  ): Promise<StorageApi> {
    const token = fs.readFileSync(TOKEN_FILE, 'utf8').trim();
    return new StorageApi(
      await playwright.request.newContext({
        extraHTTPHeaders: { Authorization: `token ${token}` }
      })
    );
  }

  async put(tier: string, path: string, body: string | Buffer): Promise<void> {
    await this._ok(
      `Cannot write ${tier}:${path}`,
      this._request.put(this._url(tier, 'content', path), {
        data: body,
        headers: { 'Content-Type': 'application/octet-stream' }
      })
    );
  }

  async mkdir(tier: string, path: string): Promise<void> {
    await this._ok(
      `Cannot create ${tier}:${path}`,
      this._request.post(`${BRIDGE_API}/tiers/${tier}/mkdir`, {
        data: { path }
      })
    );
  }

  /** The size the bridge reports for a file. */
  async size(tier: string, path: string): Promise<number> {
    const response = await this._ok(
      `Cannot stat ${tier}:${path}`,
      this._request.get(this._url(tier, 'stat', path))
    );
    return ((await response.json()) as { size: number }).size;
  }

  /** Names in a folder of a tier. */
  async names(tier: string, path = ''): Promise<string[]> {
    const response = await this._ok(
      `Cannot list ${tier}:${path}`,
      this._request.get(this._url(tier, 'files', path))
    );
    const list = (await response.json()) as { entries: { name: string }[] };
    return list.entries.map(entry => entry.name);
  }

  /** Deletes a file or a folder; one that is already gone is fine. */
  async remove(tier: string, path: string): Promise<void> {
    await this._request.delete(this._url(tier, 'files', path));
  }

  /** Revokes the tier's live links to PATH, or all of them without one. */
  async revokeLinks(tier: string, path?: string): Promise<void> {
    const response = await this._ok(
      `Cannot list the links of ${tier}`,
      this._request.get(`${BRIDGE_API}/tiers/${tier}/links`)
    );
    const { links } = (await response.json()) as { links: IShareLink[] };
    for (const link of links) {
      if (
        (path === undefined || link.path === path) &&
        link.revokedAt === null
      ) {
        await this._request.delete(`${BRIDGE_API}/links/${link.id}`);
      }
    }
  }

  /** A request the bridge refuses; its status. */
  async createLinkStatus(tier: string, path: string): Promise<number> {
    const response = await this._request.post(
      `${BRIDGE_API}/tiers/${tier}/links`,
      { data: { path } }
    );
    return response.status();
  }

  async dispose(): Promise<void> {
    await this._request.dispose();
  }

  private _url(tier: string, route: string, path: string): string {
    return `${BRIDGE_API}/tiers/${tier}/${route}?path=${encodeURIComponent(path)}`;
  }

  private async _ok(
    what: string,
    pending: ReturnType<APIRequestContext['get']>
  ): Promise<Awaited<ReturnType<APIRequestContext['get']>>> {
    const response = await pending;
    if (!response.ok()) {
      throw new Error(
        `${what}: HTTP ${response.status()} ${await response.text()}`
      );
    }
    return response;
  }
}
