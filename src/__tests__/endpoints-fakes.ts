import {
  type Endpoint,
  type EndpointCreate,
  type EndpointKey,
  type EndpointKeyCreate,
  type EndpointKeyCreated,
  EndpointKeySchema,
  type EndpointMetrics,
  EndpointSchema,
  type ModelCatalog,
  ModelCatalogSchema
} from '@hpc-bridge/server/contract';
import type { IEndpointsApi } from '../endpoints/api';
import { FakeStream } from './jobs-fakes';

export const CATALOG: ModelCatalog = ModelCatalogSchema.parse({
  models: [
    {
      name: 'tiny-random',
      title: 'Tiny random llama',
      recipe: 'llama-server',
      providers: ['local', 'slurm'],
      resources: {
        cpus: { default: 1, min: 1, max: 2 },
        memoryMB: { default: 1000, min: 1, max: 1000 },
        gpus: { default: 1, min: 0, max: 1 },
        timeMinutes: { default: 60, min: 1, max: 60 }
      }
    }
  ],
  providers: [
    { name: 'local', title: 'Bridge host (development)' },
    { name: 'slurm', title: 'SLURM GPU partition' }
  ],
  idleMinutes: { default: 15, min: 1, max: 1440 },
  gatewayUrl: 'http://127.0.0.1:8000/services/hpc-bridge/v1'
});

/** The catalog with a cloud (flavors and quota as Nova told the bridge) and a slurm fallback. */
export const CLOUD_CATALOG: ModelCatalog = ModelCatalogSchema.parse({
  ...CATALOG,
  models: [
    { ...CATALOG.models[0], providers: ['local', 'slurm', 'openstack'] },
    {
      ...CATALOG.models[0],
      name: 'cloud-only',
      title: 'Cloud only',
      providers: ['openstack']
    }
  ],
  providers: [
    ...CATALOG.providers,
    {
      name: 'openstack',
      title: 'Demo cloud (OpenStack)',
      flavors: [
        { name: 'm1.small', gpus: 0, vcpus: 1, ramMB: 1024 },
        { name: 'g1.gpu', gpus: 1, vcpus: 4, ramMB: 8192 },
        { name: 'g2.gpu', gpus: 2, vcpus: 8, ramMB: 16384 }
      ],
      quota: {
        instances: { used: 9, limit: 10 },
        cores: { used: 18, limit: 20 },
        ramMB: { used: 0, limit: -1 }
      }
    }
  ]
});

export function endpoint(overrides: Partial<Endpoint> = {}): Endpoint {
  return EndpointSchema.parse({
    id: 'e1',
    name: 'demo',
    owner: 'alice',
    model: 'tiny-random',
    provider: 'local',
    resources: { cpus: 1, memoryMB: 1000, gpus: 0, timeMinutes: 60 },
    idleMinutes: 15,
    visibility: 'private',
    group: null,
    state: 'ready',
    reason: null,
    restarts: 0,
    url: CATALOG.gatewayUrl,
    replicas: [],
    createdAt: '2026-11-25T10:00:00.000Z',
    updatedAt: '2026-11-25T10:00:00.000Z',
    lastRequestAt: null,
    ...overrides
  });
}

export function key(overrides: Partial<EndpointKey> = {}): EndpointKey {
  return EndpointKeySchema.parse({
    id: 'k1',
    name: 'laptop',
    prefix: 'hpcb_AbCd',
    requestsPerMinute: null,
    tokenBudget: null,
    tokensUsed: 0,
    requests: 0,
    createdAt: '2026-11-25T10:00:00.000Z',
    lastUsedAt: null,
    revokedAt: null,
    ...overrides
  });
}

/** An in-memory bridge: records the calls, keeps endpoints and keys. */
export class FakeEndpointsApi implements IEndpointsApi {
  user = { name: 'alice', groups: ['ml101', 'ml101-instructors'] };
  endpoints: Endpoint[] = [];
  keyList = new Map<string, EndpointKey[]>();
  calls: string[] = [];
  failCreateWith: Error | null = null;
  catalogAnswer: ModelCatalog = CATALOG;
  failCatalogWith: Error | null = null;
  /** The user's event stream; `events()` hands it out once. */
  stream = new FakeStream();
  private _next = 0;

  events(): FakeStream {
    return this.stream;
  }

  async catalog(): Promise<ModelCatalog> {
    this.calls.push('catalog');
    if (this.failCatalogWith) {
      throw this.failCatalogWith;
    }
    return this.catalogAnswer;
  }

  async whoami(): Promise<{ name: string; groups: string[] }> {
    this.calls.push('whoami');
    return this.user;
  }

  async list(): Promise<Endpoint[]> {
    this.calls.push('list');
    return this.endpoints;
  }

  async get(id: string): Promise<Endpoint> {
    return this._find(id);
  }

  async create(request: EndpointCreate): Promise<Endpoint> {
    this.calls.push(`create ${request.name}`);
    if (this.failCreateWith) {
      throw this.failCreateWith;
    }
    const created = endpoint({
      id: `e${++this._next + 100}`,
      name: request.name,
      state: 'pending',
      createdAt: new Date(Date.now() + this._next).toISOString()
    });
    this.endpoints = [...this.endpoints, created];
    return created;
  }

  async action(id: string, action: 'start' | 'stop'): Promise<Endpoint> {
    this.calls.push(`${action} ${id}`);
    const next = {
      ...this._find(id),
      state: action === 'stop' ? ('stopped' as const) : ('pending' as const)
    };
    this.endpoints = this.endpoints.map(e => (e.id === id ? next : e));
    return next;
  }

  async remove(id: string): Promise<void> {
    this.calls.push(`delete ${id}`);
    this.endpoints = this.endpoints.filter(e => e.id !== id);
  }

  async keys(id: string): Promise<EndpointKey[]> {
    this.calls.push(`keys ${id}`);
    return this.keyList.get(id) ?? [];
  }

  async createKey(
    id: string,
    request: EndpointKeyCreate
  ): Promise<EndpointKeyCreated> {
    this.calls.push(`createKey ${id} ${request.name}`);
    const n = ++this._next;
    const listed = key({
      id: `k${n}`,
      name: request.name,
      prefix: `hpcb_K${n}xx`,
      requestsPerMinute: request.requestsPerMinute ?? null,
      tokenBudget: request.tokenBudget ?? null
    });
    this.keyList.set(id, [...(this.keyList.get(id) ?? []), listed]);
    return { ...listed, key: `hpcb_K${n}xxSECRET${n}` };
  }

  async revokeKey(id: string, keyId: string): Promise<EndpointKey> {
    this.calls.push(`revokeKey ${id} ${keyId}`);
    const list = (this.keyList.get(id) ?? []).map(k =>
      k.id === keyId ? { ...k, revokedAt: '2026-11-25T11:00:00.000Z' } : k
    );
    this.keyList.set(id, list);
    return list.find(k => k.id === keyId) as EndpointKey;
  }

  async metrics(id: string): Promise<EndpointMetrics> {
    this.calls.push(`metrics ${id}`);
    return {
      points: [],
      totals: { requests: 0, errors: 0, promptTokens: 0, completionTokens: 0 }
    };
  }

  private _find(id: string): Endpoint {
    const found = this.endpoints.find(e => e.id === id);
    if (!found) {
      throw new Error(`no endpoint ${id}`);
    }
    return found;
  }
}

/** A gateway answer streamed as server-sent events, one chunk per piece. */
export function sse(pieces: string[]): Response {
  const events = [
    { choices: [{ index: 0, delta: { role: 'assistant', content: null } }] },
    ...pieces.map(content => ({ choices: [{ index: 0, delta: { content } }] }))
  ]
    .map(chunk => `data: ${JSON.stringify(chunk)}\n\n`)
    .join('');
  return new Response(`${events}data: [DONE]\n\n`, {
    status: 200,
    headers: { 'Content-Type': 'text/event-stream' }
  });
}
