/**
 * The openstack provider: user-data that runs exactly the recipe's argv, flavors by GPU
 * count, Nova states → replica states (with the "no valid host" sentence), stop as
 * delete or shelve, listing by tag, and the panel's flavors and quota.
 */
import { execFileSync } from 'node:child_process';
import { CloudError } from '../../src/adapters/openstack/errors';
import type { NovaFlavor, NovaServer } from '../../src/adapters/openstack/nova';
import { parseConfig, type OpenStackConfig } from '../../src/config';
import {
  BRIDGE_TAG,
  fixedAddress,
  OpenStackProvider,
  renderUserData
} from '../../src/adapters/openstack/provider';
import type { IReplicaSpec } from '../../src/endpoints/ports';
import { SERVING_CONFIG } from './endpoints-fakes';

function cloudConfig(extra: Record<string, unknown> = {}): OpenStackConfig {
  const c = parseConfig(
    {
      hub: { apiUrl: 'http://hub.invalid/hub/api', apiToken: { value: 't' } },
      store: { path: ':memory:' },
      ...SERVING_CONFIG,
      serving: {
        providers: {
          local: {},
          openstack: {
            title: 'Demo cloud',
            authUrl: 'http://keystone:5000/v3',
            auth: {
              applicationCredential: { id: 'i', secret: { value: 's' } }
            },
            image: 'hpc-serving',
            network: 'hpc-cloud-net',
            securityGroups: ['hpc-serving'],
            flavors: [
              { gpus: 0, flavor: 'm1.small' },
              { gpus: 1, flavor: 'g1.gpu' }
            ],
            ...extra
          }
        }
      }
    },
    'c.yaml',
    {}
  ).serving.providers.openstack;
  if (c === undefined) {
    throw new Error('no openstack config');
  }
  return c;
}

function server(patch: Partial<NovaServer>): NovaServer {
  return {
    id: 'srv-1',
    name: 'hpcb-e1-r1',
    status: 'BUILD',
    addresses: {},
    metadata: { hpcb_endpoint: 'e1', hpcb_replica: 'r1', hpcb_owner: 'alice' },
    tags: [BRIDGE_TAG],
    ...patch
  };
}

/** Nova as the provider sees it, with servers the test changes. */
class FakeNova {
  readonly servers = new Map<string, NovaServer>();
  readonly calls: string[] = [];
  lastCreate: Record<string, unknown> | null = null;
  failCreate: Error | null = null;
  failLimits: Error | null = null;
  private created = 0;
  async imageId(n: string) {
    return `image:${n}`;
  }
  async networkId(n: string) {
    return `net:${n}`;
  }
  async flavorId(n: string) {
    return `flavor:${n}`;
  }
  async flavors(): Promise<NovaFlavor[]> {
    return [
      { id: 'f0', name: 'm1.small', vcpus: 1, ram: 512, extra_specs: {} },
      {
        id: 'f1',
        name: 'g1.gpu',
        vcpus: 1,
        ram: 1024,
        extra_specs: { 'resources:VGPU': '1' }
      },
      {
        id: 'f2',
        name: 'g2.gpu',
        vcpus: 2,
        ram: 2048,
        extra_specs: { 'resources:VGPU': '2' }
      }
    ];
  }
  async createServer(
    s: Record<string, unknown> & {
      name: string;
      metadata: Record<string, string>;
    }
  ) {
    if (this.failCreate !== null) {
      throw this.failCreate;
    }
    this.lastCreate = s;
    this.created += 1;
    const id = `srv-${this.created}`;
    this.servers.set(id, server({ id, name: s.name, metadata: s.metadata }));
    return id;
  }
  async server(id: string) {
    return this.servers.get(id) ?? null;
  }
  async serversTagged(tag: string) {
    return [...this.servers.values()].filter(s => s.tags.includes(tag));
  }
  async deleteServer(id: string) {
    this.calls.push(`delete:${id}`);
    this.servers.delete(id);
  }
  async action(id: string, action: 'shelve' | 'unshelve') {
    this.calls.push(`${action}:${id}`);
    const s = this.servers.get(id);
    if (s !== undefined) {
      s.status = action === 'shelve' ? 'SHELVED_OFFLOADED' : 'ACTIVE';
    }
  }
  async setMetadataItem(id: string, key: string, value: string) {
    const s = this.servers.get(id);
    if (s !== undefined) {
      s.metadata = { ...s.metadata, [key]: value };
    }
  }
  async limits() {
    if (this.failLimits !== null) {
      throw this.failLimits;
    }
    return {
      instances: { used: 1, limit: 10 },
      cores: { used: 1, limit: 20 },
      ramMB: { used: 1024, limit: 51200 }
    };
  }
}

const SPEC: IReplicaSpec = {
  endpointId: 'e1',
  replicaId: 'r1',
  owner: 'alice',
  modelPath: '/models/tiny.gguf',
  argv: [
    '/opt/llama-server',
    '-m',
    '/models/tiny.gguf',
    '--host',
    '{host}',
    '--port',
    '{port}'
  ],
  upstreamKey: 'KEY-0123456789abcdef',
  keyEnv: 'LLAMA_API_KEY',
  resources: { cpus: 1, memoryMB: 1000, gpus: 1, timeMinutes: 60 }
};

function fixture(extra: Record<string, unknown> = {}) {
  const nova = new FakeNova();
  let now = Date.parse('2026-01-01T00:00:00Z');
  const provider = new OpenStackProvider({
    config: cloudConfig(extra),
    nova: nova as unknown as ConstructorParameters<
      typeof OpenStackProvider
    >[0]['nova'],
    now: () => now
  });
  return { nova, provider, advance: (ms: number) => (now += ms) };
}

describe('OpenStackProvider', () => {
  it('renders user-data whose shell runs exactly the recipe argv', () => {
    const argv = [
      '/usr/bin/printf',
      '%s\\n',
      "it's",
      'a b',
      '$HOME `id`',
      '--bind={host}:{port}'
    ];
    const script = renderUserData(
      '#!/bin/sh\necho port {port}\nexec {command}\n',
      argv,
      8080
    );
    const out = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
    expect(out.split('\n')).toEqual([
      'port 8080',
      "it's",
      'a b',
      '$HOME `id`',
      '--bind=0.0.0.0:8080',
      ''
    ]);
  });

  it('creates a tagged server with the flavor for the GPU count and the bridge metadata', async () => {
    const f = fixture();
    const handle = await f.provider.start(SPEC);
    expect(handle).toMatchObject({
      provider: 'openstack',
      replicaId: 'r1',
      ref: { serverId: 'srv-1', name: 'hpcb-e1-r1', port: 8080 }
    });
    expect(f.nova.lastCreate).toMatchObject({
      name: 'hpcb-e1-r1',
      flavorId: 'flavor:g1.gpu',
      imageId: 'image:hpc-serving',
      networkId: 'net:hpc-cloud-net',
      securityGroups: ['hpc-serving'],
      tags: ['hpc-bridge'],
      metadata: { hpcb_endpoint: 'e1', hpcb_replica: 'r1', hpcb_owner: 'alice' }
    });
    expect(f.nova.lastCreate?.userData).toBe(
      "#!/bin/sh\nexec /usr/bin/env 'LLAMA_API_KEY=KEY-0123456789abcdef' /opt/llama-server -m /models/tiny.gguf --host 0.0.0.0 --port 8080\n"
    );
    await expect(
      f.provider.start({ ...SPEC, resources: { ...SPEC.resources, gpus: 4 } })
    ).rejects.toThrow(
      'The cloud Demo cloud offers no flavor for 4 GPUs (configured: 0, 1)'
    );
  });

  it('maps Nova states: building, active at its fixed IP, no valid host, gone', async () => {
    const f = fixture();
    const handle = await f.provider.start(SPEC);
    const s = f.nova.servers.get('srv-1') as NovaServer;
    s['OS-EXT-STS:task_state'] = 'spawning';
    expect(await f.provider.status(handle)).toEqual({
      state: 'pending',
      detail: 'cloud server hpcb-e1-r1 building (spawning)'
    });
    s.status = 'ACTIVE';
    expect(await f.provider.status(handle)).toEqual({
      state: 'pending',
      detail: 'cloud server hpcb-e1-r1 active, waiting for its address'
    });
    s.addresses = {
      other: [{ addr: 'fd00::5', version: 6 }],
      'hpc-cloud-net': [
        { addr: '10.77.0.12', version: 4, 'OS-EXT-IPS:type': 'fixed' }
      ]
    };
    expect(await f.provider.status(handle)).toEqual({
      state: 'running',
      host: '10.77.0.12',
      port: 8080,
      endsAt: null
    });
    s.status = 'ERROR';
    s.fault = {
      message: 'No valid host was found. There are not enough hosts available.',
      code: 500
    };
    expect(await f.provider.status(handle)).toEqual({
      state: 'failed',
      noCapacity: true,
      reason:
        'The cloud has no free GPU of this kind right now (Demo cloud: No valid host was found. There are not enough hosts available.)'
    });
    s.fault = { message: 'Build of instance aborted' };
    expect(await f.provider.status(handle)).toEqual({
      state: 'failed',
      reason: 'The cloud server hpcb-e1-r1 failed: Build of instance aborted'
    });
    f.nova.servers.delete('srv-1');
    expect(await f.provider.status(handle)).toEqual({
      state: 'gone',
      reason: 'cloud server hpcb-e1-r1 no longer exists'
    });
  });

  it('fails a server that does not boot within bootMinutes', async () => {
    const f = fixture({ bootMinutes: 2 });
    const handle = await f.provider.start(SPEC);
    f.advance(2 * 60_000);
    expect(await f.provider.status(handle)).toEqual({
      state: 'failed',
      reason: 'cloud server hpcb-e1-r1 did not boot within 2 minutes'
    });
  });

  it('passes a quota refusal on as a no-capacity error', async () => {
    const f = fixture();
    f.nova.failCreate = new CloudError(
      'quota',
      "The cloud project's quota is used up: Quota exceeded for instances",
      403
    );
    await expect(f.provider.start(SPEC)).rejects.toMatchObject({
      noCapacity: true
    });
  });

  it('deletes on stop; with onStop shelve, parks on scale to zero and unshelves on the next start', async () => {
    const del = fixture();
    const h = await del.provider.start(SPEC);
    await del.provider.stop(h, { park: true });
    expect(del.nova.calls).toEqual(['delete:srv-1']);

    const f = fixture({ onStop: 'shelve' });
    const first = await f.provider.start(SPEC);
    (f.nova.servers.get('srv-1') as NovaServer).status = 'ACTIVE';
    await f.provider.stop(first, { park: true });
    expect(f.nova.calls).toEqual(['shelve:srv-1']);
    expect(await f.provider.list()).toMatchObject([
      {
        endpointId: 'e1',
        owner: 'alice',
        parked: true,
        handle: { replicaId: 'r1' }
      }
    ]);
    // A fresh key per replica still wakes the parked server, which keeps r1's key.
    const again = await f.provider.start({
      ...SPEC,
      replicaId: 'r2',
      upstreamKey: 'KEY-fedcba9876543210'
    });
    expect(again.ref.serverId).toBe('srv-1');
    expect(again.ref.wokenFrom).toBe('r1');
    expect(f.nova.calls).toEqual(['shelve:srv-1', 'unshelve:srv-1']);
    expect(await f.provider.list()).toMatchObject([
      { parked: false, handle: { replicaId: 'r2', ref: { serverId: 'srv-1' } } }
    ]);
    // A changed recipe does not wake the old server: it goes, a new one comes.
    await f.provider.stop(again, { park: true });
    const other = await f.provider.start({
      ...SPEC,
      replicaId: 'r3',
      argv: [...SPEC.argv, '-t', '2']
    });
    expect(other.ref.serverId).toBe('srv-2');
    expect(f.nova.calls.slice(-2)).toEqual(['shelve:srv-1', 'delete:srv-1']);
    // Stopping (not parking) deletes even with shelve configured.
    await f.provider.stop(other);
    expect(f.nova.calls.at(-1)).toBe('delete:srv-2');
  });

  it('prefers the configured network for the address', () => {
    expect(
      fixedAddress(
        {
          addresses: {
            a: [{ addr: '192.168.1.5', version: 4 }],
            net: [
              { addr: '172.24.4.9', version: 4, 'OS-EXT-IPS:type': 'floating' },
              { addr: '10.0.0.7', version: 4, 'OS-EXT-IPS:type': 'fixed' }
            ]
          }
        },
        'net'
      )
    ).toBe('10.0.0.7');
  });

  it('describes the configured flavors and the quota for the panel; a problem sentence when the cloud fails', async () => {
    const f = fixture();
    expect(await f.provider.describe()).toEqual({
      flavors: [
        { name: 'm1.small', gpus: 0, vcpus: 1, ramMB: 512 },
        { name: 'g1.gpu', gpus: 1, vcpus: 1, ramMB: 1024 }
      ],
      quota: {
        instances: { used: 1, limit: 10 },
        cores: { used: 1, limit: 20 },
        ramMB: { used: 1024, limit: 51200 }
      }
    });
    const broken = fixture();
    broken.nova.failLimits = new CloudError(
      'unreachable',
      'The cloud Demo cloud is not reachable (http://nova:8774: ECONNREFUSED)'
    );
    expect(await broken.provider.describe()).toEqual({
      problem:
        'The cloud Demo cloud is not reachable (http://nova:8774: ECONNREFUSED)'
    });
  });
});
