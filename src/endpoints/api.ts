import {
  EndpointKeyCreatedSchema,
  EndpointKeyListSchema,
  EndpointKeySchema,
  EndpointListSchema,
  EndpointMetricsSchema,
  EndpointSchema,
  ModelCatalogSchema,
  Routes
} from '@hpc-bridge/server/contract';
import type * as contract from '@hpc-bridge/server/contract';
import { z } from 'zod';
import type { IBridgeClient } from '../tokens';

/** Bridge answers without a body of interest (delete). */
const AnySchema = z.unknown();

/**
 * The endpoint routes of the bridge, typed by the contract. The Endpoints
 * model talks to the bridge only through this.
 */
export interface IEndpointsApi {
  catalog(): Promise<Endpoints.Catalog>;
  list(): Promise<Endpoints.Endpoint[]>;
  get(id: string): Promise<Endpoints.Endpoint>;
  create(request: Endpoints.Create): Promise<Endpoints.Endpoint>;
  action(id: string, action: 'start' | 'stop'): Promise<Endpoints.Endpoint>;
  remove(id: string): Promise<void>;
  keys(id: string): Promise<Endpoints.Key[]>;
  createKey(
    id: string,
    request: Endpoints.KeyCreate
  ): Promise<Endpoints.KeyCreated>;
  revokeKey(id: string, keyId: string): Promise<Endpoints.Key>;
  metrics(id: string): Promise<Endpoints.Metrics>;
  whoami(): Promise<{ name: string; groups: string[] }>;
}

/** The contract's endpoint types. */
export namespace Endpoints {
  export type Catalog = contract.ModelCatalog;
  export type CatalogModel = contract.CatalogModel;
  export type ProviderName = contract.ServingProviderName;
  export type ProviderInfo = contract.ServingProviderInfo;
  export type Endpoint = contract.Endpoint;
  export type State = contract.EndpointState;
  export type Visibility = contract.EndpointVisibility;
  export type Resources = contract.ServingResources;
  export type Replica = contract.Replica;
  export type Create = contract.EndpointCreate;
  export type Key = contract.EndpointKey;
  export type KeyCreate = contract.EndpointKeyCreate;
  export type KeyCreated = contract.EndpointKeyCreated;
  export type Metrics = contract.EndpointMetrics;
  export type MetricPoint = contract.EndpointMetricPoint;
}

/** `IEndpointsApi` over the bridge client. */
export class EndpointsApi implements IEndpointsApi {
  constructor(private readonly _client: IBridgeClient) {}

  catalog(): Promise<Endpoints.Catalog> {
    return this._client.request('GET', Routes.modelCatalog, ModelCatalogSchema);
  }

  async list(): Promise<Endpoints.Endpoint[]> {
    const list = await this._client.request(
      'GET',
      Routes.endpoints,
      EndpointListSchema
    );
    return list.endpoints;
  }

  get(id: string): Promise<Endpoints.Endpoint> {
    return this._client.request('GET', Routes.endpoint(id), EndpointSchema);
  }

  create(request: Endpoints.Create): Promise<Endpoints.Endpoint> {
    return this._client.request('POST', Routes.endpoints, EndpointSchema, {
      body: request
    });
  }

  action(id: string, action: 'start' | 'stop'): Promise<Endpoints.Endpoint> {
    return this._client.request(
      'POST',
      Routes.endpointAction(id, action),
      EndpointSchema,
      { body: {} }
    );
  }

  async remove(id: string): Promise<void> {
    await this._client.request('DELETE', Routes.endpoint(id), AnySchema);
  }

  async keys(id: string): Promise<Endpoints.Key[]> {
    const list = await this._client.request(
      'GET',
      Routes.endpointKeys(id),
      EndpointKeyListSchema
    );
    return list.keys;
  }

  createKey(
    id: string,
    request: Endpoints.KeyCreate
  ): Promise<Endpoints.KeyCreated> {
    return this._client.request(
      'POST',
      Routes.endpointKeys(id),
      EndpointKeyCreatedSchema,
      { body: request }
    );
  }

  revokeKey(id: string, keyId: string): Promise<Endpoints.Key> {
    return this._client.request(
      'DELETE',
      Routes.endpointKey(id, keyId),
      EndpointKeySchema
    );
  }

  metrics(id: string): Promise<Endpoints.Metrics> {
    return this._client.request(
      'GET',
      Routes.endpointMetrics(id),
      EndpointMetricsSchema
    );
  }

  whoami(): Promise<{ name: string; groups: string[] }> {
    return this._client.whoami();
  }
}
