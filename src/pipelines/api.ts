import {
  type Endpoint,
  EndpointListSchema,
  type Profile,
  Routes,
  type Tier,
  type Trigger,
  type TriggerCreate,
  type TriggerDryRun,
  TriggerDryRunSchema,
  TriggerListSchema,
  type TriggerPatch,
  type TriggerRun,
  TriggerRunListSchema,
  TriggerSchema
} from '@hpc-bridge/server/contract';
import { z } from 'zod';
import { TierChoice } from '../storage/TierChoice';
import type { IBridgeClient } from '../tokens';

/** Bridge answers without a body of interest (delete). */
const AnySchema = z.unknown();

/**
 * The trigger routes of the bridge, typed by the contract, and what the new
 * trigger form offers (profiles, tiers, the user's endpoints). The Pipelines
 * model and dialogs talk to the bridge only through this.
 */
export interface IPipelinesApi {
  list(): Promise<Trigger[]>;
  create(request: TriggerCreate): Promise<Trigger>;
  patch(id: string, patch: TriggerPatch): Promise<Trigger>;
  remove(id: string): Promise<void>;
  /** A page of runs, newest first; `before` a run id to page back. */
  runs(
    id: string,
    options?: { before?: string; limit?: number }
  ): Promise<TriggerRun[]>;
  dryRun(id: string): Promise<TriggerDryRun>;
  profiles(): Promise<Profile[]>;
  tiers(): Promise<Tier[]>;
  /** The endpoints the user owns (a trigger may roll only those). */
  endpoints(): Promise<Endpoint[]>;
}

/** `IPipelinesApi` over the bridge client. */
export class PipelinesApi implements IPipelinesApi {
  constructor(private readonly _client: IBridgeClient) {}

  async list(): Promise<Trigger[]> {
    const list = await this._client.request(
      'GET',
      Routes.triggers,
      TriggerListSchema
    );
    return list.triggers;
  }

  create(request: TriggerCreate): Promise<Trigger> {
    return this._client.request('POST', Routes.triggers, TriggerSchema, {
      body: request
    });
  }

  patch(id: string, patch: TriggerPatch): Promise<Trigger> {
    return this._client.request('PATCH', Routes.trigger(id), TriggerSchema, {
      body: patch
    });
  }

  async remove(id: string): Promise<void> {
    await this._client.request('DELETE', Routes.trigger(id), AnySchema);
  }

  async runs(
    id: string,
    options: { before?: string; limit?: number } = {}
  ): Promise<TriggerRun[]> {
    const list = await this._client.request(
      'GET',
      Routes.triggerRuns(id),
      TriggerRunListSchema,
      {
        query: {
          before: options.before,
          limit: options.limit === undefined ? undefined : String(options.limit)
        }
      }
    );
    return list.runs;
  }

  dryRun(id: string): Promise<TriggerDryRun> {
    return this._client.request(
      'POST',
      Routes.triggerDryRun(id),
      TriggerDryRunSchema,
      { body: {} }
    );
  }

  async profiles(): Promise<Profile[]> {
    return (await this._client.profiles()).profiles;
  }

  tiers(): Promise<Tier[]> {
    return TierChoice.load(this._client);
  }

  async endpoints(): Promise<Endpoint[]> {
    const [user, list] = await Promise.all([
      this._client.whoami(),
      this._client.request('GET', Routes.endpoints, EndpointListSchema)
    ]);
    return list.endpoints.filter(endpoint => endpoint.owner === user.name);
  }
}
