import {
  type Endpoint,
  type EndpointCreate,
  type EndpointKey,
  type EndpointKeyCreate,
  type EndpointKeyCreated,
  EndpointKeyCreatedSchema,
  EndpointKeyListSchema,
  EndpointKeySchema,
  EndpointListSchema,
  type EndpointMetrics,
  EndpointMetricsSchema,
  EndpointSchema,
  type ModelCatalog,
  ModelCatalogSchema,
  Routes
} from '@hpc-bridge/server/contract';
import { z } from 'zod';
import type { Bridge, IBridgeClient } from '../tokens';

/** Bridge answers without a body of interest (delete). */
const AnySchema = z.unknown();

/**
 * The endpoint routes of the bridge, typed by the contract. The Endpoints
 * model talks to the bridge only through this.
 */
export interface IEndpointsApi {
  catalog(): Promise<ModelCatalog>;
  list(): Promise<Endpoint[]>;
  get(id: string): Promise<Endpoint>;
  create(request: EndpointCreate): Promise<Endpoint>;
  action(id: string, action: 'start' | 'stop'): Promise<Endpoint>;
  remove(id: string): Promise<void>;
  keys(id: string): Promise<EndpointKey[]>;
  createKey(
    id: string,
    request: EndpointKeyCreate
  ): Promise<EndpointKeyCreated>;
  revokeKey(id: string, keyId: string): Promise<EndpointKey>;
  metrics(id: string): Promise<EndpointMetrics>;
  whoami(): Promise<{ name: string; groups: string[] }>;
  /** The user's live event stream (`endpoint` events among others). */
  events(): Bridge.IEventStream;
}

/** `IEndpointsApi` over the bridge client. */
export class EndpointsApi implements IEndpointsApi {
  constructor(private readonly _client: IBridgeClient) {}

  catalog(): Promise<ModelCatalog> {
    return this._client.request('GET', Routes.modelCatalog, ModelCatalogSchema);
  }

  async list(): Promise<Endpoint[]> {
    const list = await this._client.request(
      'GET',
      Routes.endpoints,
      EndpointListSchema
    );
    return list.endpoints;
  }

  get(id: string): Promise<Endpoint> {
    return this._client.request('GET', Routes.endpoint(id), EndpointSchema);
  }

  create(request: EndpointCreate): Promise<Endpoint> {
    return this._client.request('POST', Routes.endpoints, EndpointSchema, {
      body: request
    });
  }

  action(id: string, action: 'start' | 'stop'): Promise<Endpoint> {
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

  async keys(id: string): Promise<EndpointKey[]> {
    const list = await this._client.request(
      'GET',
      Routes.endpointKeys(id),
      EndpointKeyListSchema
    );
    return list.keys;
  }

  createKey(
    id: string,
    request: EndpointKeyCreate
  ): Promise<EndpointKeyCreated> {
    return this._client.request(
      'POST',
      Routes.endpointKeys(id),
      EndpointKeyCreatedSchema,
      { body: request }
    );
  }

  revokeKey(id: string, keyId: string): Promise<EndpointKey> {
    return this._client.request(
      'DELETE',
      Routes.endpointKey(id, keyId),
      EndpointKeySchema
    );
  }

  metrics(id: string): Promise<EndpointMetrics> {
    return this._client.request(
      'GET',
      Routes.endpointMetrics(id),
      EndpointMetricsSchema
    );
  }

  whoami(): Promise<{ name: string; groups: string[] }> {
    return this._client.whoami();
  }

  events(): Bridge.IEventStream {
    return this._client.events();
  }
}
