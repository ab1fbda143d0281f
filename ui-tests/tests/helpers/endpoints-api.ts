/*
 * The bridge's endpoint API as the test user: checks what the UI did and
 * deletes what a test made (also after a failure).
 */
import * as fs from 'fs';

import type { APIRequestContext, PlaywrightWorkerArgs } from '@playwright/test';

import { TOKEN_FILE } from '../../hub';
import { BRIDGE_API } from './storage-api';

export interface IEndpointSummary {
  id: string;
  name: string;
  owner: string;
  state: string;
  provider: string;
  replicas: Array<{
    provider: string;
    state: string;
    where?: string | null;
    address: string | null;
  }>;
}

export interface IProviderSummary {
  name: string;
  title: string;
  flavors?: Array<{ name: string; gpus: number }>;
  quota?: Record<string, { used: number; limit: number }>;
  problem?: string;
}

export class EndpointsApi {
  private constructor(private readonly _request: APIRequestContext) {}

  /** Logged in with the test user's own hub token. */
  static async open(
    playwright: PlaywrightWorkerArgs['playwright']
  ): Promise<EndpointsApi> {
    const token = fs.readFileSync(TOKEN_FILE, 'utf8').trim();
    return new EndpointsApi(
      await playwright.request.newContext({
        extraHTTPHeaders: { Authorization: `token ${token}` }
      })
    );
  }

  async list(): Promise<IEndpointSummary[]> {
    const response = await this._request.get(`${BRIDGE_API}/endpoints`);
    if (!response.ok()) {
      throw new Error(
        `Cannot list the endpoints: HTTP ${response.status()} ${await response.text()}`
      );
    }
    return ((await response.json()) as { endpoints: IEndpointSummary[] })
      .endpoints;
  }

  /** The providers of the catalog (`GET /models`). */
  async providers(): Promise<IProviderSummary[]> {
    const response = await this._request.get(`${BRIDGE_API}/models`);
    if (!response.ok()) {
      throw new Error(
        `Cannot read the catalog: HTTP ${response.status()} ${await response.text()}`
      );
    }
    return ((await response.json()) as { providers: IProviderSummary[] })
      .providers;
  }

  /** The user's own endpoint called `name`, or `null`. */
  async find(name: string): Promise<IEndpointSummary | null> {
    const user = await this._whoami();
    return (
      (await this.list()).find(
        endpoint => endpoint.name === name && endpoint.owner === user
      ) ?? null
    );
  }

  /** Deletes the user's endpoint called `name`, if there is one. */
  async removeByName(name: string): Promise<void> {
    const endpoint = await this.find(name);
    if (endpoint) {
      await this._request.delete(`${BRIDGE_API}/endpoints/${endpoint.id}`);
    }
  }

  async dispose(): Promise<void> {
    await this._request.dispose();
  }

  private async _whoami(): Promise<string> {
    const response = await this._request.get(`${BRIDGE_API}/whoami`);
    return ((await response.json()) as { name: string }).name;
  }
}
