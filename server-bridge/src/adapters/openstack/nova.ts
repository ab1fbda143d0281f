/**
 * Nova (compute) with plain fetch, plus the two lookups a server needs from Glance
 * (image by name) and Neutron (network by name). Names are resolved once and cached.
 * Microversion 2.61: tags at create (≥ 2.52), flavors with their extra specs (≥ 2.61).
 */
import { z } from 'zod';
import { apiMessage, CloudError, cloudErrorOf, scrub } from './errors';
import type { Keystone } from './keystone';

export const NOVA_MICROVERSION = '2.61';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const AddressSchema = z.object({
  addr: z.string(),
  version: z.number().optional(),
  'OS-EXT-IPS:type': z.string().optional()
});

export const ServerSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  'OS-EXT-STS:task_state': z.string().nullish(),
  addresses: z.record(z.string(), z.array(AddressSchema)).default({}),
  metadata: z.record(z.string(), z.string()).default({}),
  tags: z.array(z.string()).default([]),
  fault: z
    .object({ message: z.string().default(''), code: z.number().optional() })
    .nullish(),
  created: z.string().optional()
});
export type NovaServer = z.infer<typeof ServerSchema>;

const FlavorSchema = z.object({
  id: z.string(),
  name: z.string(),
  vcpus: z.number(),
  ram: z.number(),
  disk: z.number().optional(),
  extra_specs: z.record(z.string(), z.string()).default({})
});
export type NovaFlavor = z.infer<typeof FlavorSchema>;

const LimitsSchema = z.object({
  limits: z.object({
    absolute: z.record(z.string(), z.number())
  })
});

export interface INovaLimits {
  instances: { used: number; limit: number };
  cores: { used: number; limit: number };
  ramMB: { used: number; limit: number };
}

export interface ICreateServer {
  name: string;
  flavorId: string;
  imageId: string;
  networkId: string;
  securityGroups: readonly string[];
  keyName?: string;
  /** The script the instance runs at boot (plain text; sent base64). Holds secrets. */
  userData: string;
  metadata: Record<string, string>;
  tags: readonly string[];
}

/** GPUs a flavor asks for: `resources:VGPU` (or `resources:PGPU`) in its extra specs. */
export function flavorGpus(f: Pick<NovaFlavor, 'extra_specs'>): number {
  const v =
    f.extra_specs['resources:VGPU'] ?? f.extra_specs['resources:PGPU'] ?? '0';
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

export class Nova {
  private readonly ids = new Map<string, Promise<string>>();
  private flavorList: { at: number; flavors: Promise<NovaFlavor[]> } | null =
    null;

  constructor(
    private readonly keystone: Keystone,
    private readonly now: () => number = Date.now
  ) {}

  private get cloud() {
    return this.keystone.cloud;
  }

  private async call(
    service: string,
    what: string,
    path: string,
    init: { method?: string; body?: unknown } = {},
    /** Secrets of this call (user-data) that must not reach an error message. */
    extraSecrets: readonly string[] = []
  ): Promise<unknown> {
    const res = await this.keystone.request(service, path, {
      ...init,
      headers:
        service === 'compute'
          ? {
              'openstack-api-version': `compute ${NOVA_MICROVERSION}`,
              'x-openstack-nova-api-version': NOVA_MICROVERSION
            }
          : {}
    });
    const text = await res.text();
    if (!res.ok) {
      throw cloudErrorOf(
        this.cloud,
        what,
        res.status,
        scrub(apiMessage(text), [...this.keystone.secrets(), ...extraSecrets])
      );
    }
    return text === '' ? null : (JSON.parse(text) as unknown);
  }

  /** Resolves a name to an id once (an id is used as it is). */
  private resolve(
    kind: string,
    nameOrId: string,
    lookup: () => Promise<string>
  ): Promise<string> {
    if (UUID.test(nameOrId)) {
      return Promise.resolve(nameOrId);
    }
    const key = `${kind}:${nameOrId}`;
    let p = this.ids.get(key);
    if (p === undefined) {
      p = lookup();
      this.ids.set(key, p);
      p.catch(() => this.ids.delete(key));
    }
    return p;
  }

  private one(kind: string, name: string, ids: readonly string[]): string {
    if (ids.length === 1 && ids[0] !== undefined) {
      return ids[0];
    }
    throw new CloudError(
      'bad_request',
      ids.length === 0
        ? `The cloud ${this.cloud} has no ${kind} named "${name}": check the bridge's configuration`
        : `The cloud ${this.cloud} has ${ids.length} ${kind}s named "${name}": configure its id instead`
    );
  }

  imageId(nameOrId: string): Promise<string> {
    return this.resolve('image', nameOrId, async () => {
      const body = z
        .object({ images: z.array(z.object({ id: z.string() })) })
        .parse(
          await this.call(
            'image',
            'look up the image',
            `/v2/images?name=${encodeURIComponent(nameOrId)}`
          )
        );
      return this.one(
        'image',
        nameOrId,
        body.images.map(i => i.id)
      );
    });
  }

  networkId(nameOrId: string): Promise<string> {
    return this.resolve('network', nameOrId, async () => {
      const body = z
        .object({ networks: z.array(z.object({ id: z.string() })) })
        .parse(
          await this.call(
            'network',
            'look up the network',
            `/v2.0/networks?name=${encodeURIComponent(nameOrId)}`
          )
        );
      return this.one(
        'network',
        nameOrId,
        body.networks.map(n => n.id)
      );
    });
  }

  /** Public and project flavors with their extra specs; cached for `maxAgeMs`. */
  flavors(maxAgeMs = 300_000): Promise<NovaFlavor[]> {
    const now = this.now();
    if (this.flavorList === null || now - this.flavorList.at >= maxAgeMs) {
      const flavors = this.call(
        'compute',
        'list flavors',
        '/flavors/detail'
      ).then(
        b => z.object({ flavors: z.array(FlavorSchema) }).parse(b).flavors
      );
      const entry = { at: now, flavors };
      this.flavorList = entry;
      flavors.catch(() => {
        if (this.flavorList === entry) {
          this.flavorList = null;
        }
      });
    }
    return this.flavorList.flavors;
  }

  async flavorId(nameOrId: string): Promise<string> {
    const flavors = await this.flavors();
    const f = flavors.find(x => x.id === nameOrId || x.name === nameOrId);
    if (f === undefined) {
      throw new CloudError(
        'bad_request',
        `The cloud ${this.cloud} has no flavor "${nameOrId}": check the bridge's configuration`
      );
    }
    return f.id;
  }

  async createServer(s: ICreateServer): Promise<string> {
    const body = {
      server: {
        name: s.name,
        flavorRef: s.flavorId,
        imageRef: s.imageId,
        networks: [{ uuid: s.networkId }],
        security_groups: s.securityGroups.map(name => ({ name })),
        ...(s.keyName === undefined ? {} : { key_name: s.keyName }),
        user_data: Buffer.from(s.userData, 'utf8').toString('base64'),
        metadata: s.metadata,
        tags: [...s.tags]
      }
    };
    const answer = z
      .object({ server: z.object({ id: z.string() }) })
      .parse(
        await this.call(
          'compute',
          'create a server',
          '/servers',
          { method: 'POST', body },
          [s.userData, body.server.user_data]
        )
      );
    return answer.server.id;
  }

  /** The server, or null when Nova no longer knows it. */
  async server(id: string): Promise<NovaServer | null> {
    try {
      const body = await this.call(
        'compute',
        'read a server',
        `/servers/${encodeURIComponent(id)}`
      );
      return z.object({ server: ServerSchema }).parse(body).server;
    } catch (e) {
      if (e instanceof CloudError && e.kind === 'not_found') {
        return null;
      }
      throw e;
    }
  }

  /** Servers of this project carrying `tag` (any state but deleted). */
  async serversTagged(tag: string): Promise<NovaServer[]> {
    const body = await this.call(
      'compute',
      'list servers',
      `/servers/detail?tags=${encodeURIComponent(tag)}`
    );
    return z.object({ servers: z.array(ServerSchema) }).parse(body).servers;
  }

  /** Deletes the server; a server already gone is fine. */
  async deleteServer(id: string): Promise<void> {
    try {
      await this.call(
        'compute',
        'delete a server',
        `/servers/${encodeURIComponent(id)}`,
        { method: 'DELETE' }
      );
    } catch (e) {
      if (!(e instanceof CloudError && e.kind === 'not_found')) {
        throw e;
      }
    }
  }

  async action(id: string, action: 'shelve' | 'unshelve'): Promise<void> {
    await this.call(
      'compute',
      `${action} a server`,
      `/servers/${encodeURIComponent(id)}/action`,
      { method: 'POST', body: { [action]: null } }
    );
  }

  async setMetadataItem(id: string, key: string, value: string): Promise<void> {
    await this.call(
      'compute',
      'update server metadata',
      `/servers/${encodeURIComponent(id)}/metadata/${encodeURIComponent(key)}`,
      { method: 'PUT', body: { meta: { [key]: value } } }
    );
  }

  /** The project's absolute limits and what is used of them. */
  async limits(): Promise<INovaLimits> {
    const a = LimitsSchema.parse(
      await this.call('compute', 'read the quota', '/limits')
    ).limits.absolute;
    const pair = (used: string, limit: string) => ({
      used: a[used] ?? 0,
      limit: a[limit] ?? -1
    });
    return {
      instances: pair('totalInstancesUsed', 'maxTotalInstances'),
      cores: pair('totalCoresUsed', 'maxTotalCores'),
      ramMB: pair('totalRAMUsed', 'maxTotalRAMSize')
    };
  }
}
