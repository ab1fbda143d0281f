/**
 * Keystone and Nova adapters: request shapes, token caching and re-login, the service
 * catalog, and errors as sentences that never carry a secret (a recording fetch answers).
 */
import { Secret } from '../../src/config';
import { CloudError } from '../../src/adapters/openstack/errors';
import { authBody, Keystone } from '../../src/adapters/openstack/keystone';
import { Nova } from '../../src/adapters/openstack/nova';
import { freePort } from '../../src/endpoints/local-processes';

interface ICall {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

type Handler = (call: ICall) => {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
};

const SECRET = 'app-cred-SECRET-value';
const NOW = Date.parse('2026-01-01T00:00:00Z');

/** A fetch that records calls; `routes` answer by "METHOD path" prefix. */
function cloud(routes: Record<string, Handler>, now: () => number = () => NOW) {
  const calls: ICall[] = [];
  let tokens = 0;
  const fetchFn = (async (input: string | URL, init: RequestInit = {}) => {
    const url = String(input);
    const call: ICall = {
      method: init.method ?? 'GET',
      url,
      headers: (init.headers ?? {}) as Record<string, string>,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined
    };
    calls.push(call);
    if (url.endsWith('/v3/auth/tokens')) {
      tokens += 1;
      const custom = routes['POST /v3/auth/tokens'];
      if (custom !== undefined) {
        const a = custom(call);
        return new Response(JSON.stringify(a.body ?? {}), { status: a.status });
      }
      return new Response(
        JSON.stringify({
          token: {
            expires_at: new Date(now() + 3600_000).toISOString(),
            project: { id: 'p1' },
            catalog: [
              {
                type: 'compute',
                endpoints: [
                  {
                    interface: 'internal',
                    region_id: 'RegionOne',
                    url: 'http://internal:8774/v2.1'
                  },
                  {
                    interface: 'public',
                    region_id: 'Other',
                    url: 'http://other:8774/v2.1'
                  },
                  {
                    interface: 'public',
                    region_id: 'RegionOne',
                    url: 'http://nova:8774/v2.1/'
                  }
                ]
              },
              {
                type: 'image',
                endpoints: [
                  {
                    interface: 'public',
                    region_id: 'RegionOne',
                    url: 'http://glance:9292'
                  }
                ]
              },
              {
                type: 'network',
                endpoints: [
                  {
                    interface: 'public',
                    region_id: 'RegionOne',
                    url: 'http://neutron:9696'
                  }
                ]
              }
            ]
          }
        }),
        { status: 201, headers: { 'x-subject-token': `token-${tokens}` } }
      );
    }
    const path = new URL(url).pathname + new URL(url).search;
    const key = Object.keys(routes).find(k =>
      `${call.method} ${path}`.startsWith(k)
    );
    if (key === undefined) {
      return new Response('{"itemNotFound": {"message": "not here"}}', {
        status: 404
      });
    }
    const a = (routes[key] as Handler)(call);
    return new Response(a.body === undefined ? '' : JSON.stringify(a.body), {
      status: a.status,
      headers: a.headers
    });
  }) as typeof fetch;
  return { calls, fetch: fetchFn, tokens: () => tokens };
}

function keystone(c: ReturnType<typeof cloud>, now = () => NOW) {
  return new Keystone({
    cloud: 'Demo cloud',
    authUrl: 'http://keystone:5000',
    region: 'RegionOne',
    credentials: {
      applicationCredential: {
        id: 'cred-id',
        secret: new Secret(SECRET, 'value')
      }
    },
    fetch: c.fetch,
    now
  });
}

describe('Keystone', () => {
  it('logs in with an application credential or a password (project-scoped)', () => {
    expect(
      authBody({
        applicationCredential: { id: 'i', secret: new Secret('s', 'value') }
      })
    ).toEqual({
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: { id: 'i', secret: 's' }
        }
      }
    });
    expect(
      authBody({
        password: {
          username: 'u',
          password: new Secret('pw', 'value'),
          projectName: 'hpc-demo',
          userDomainName: 'Default',
          projectDomainName: 'Default'
        }
      })
    ).toEqual({
      auth: {
        identity: {
          methods: ['password'],
          password: {
            user: { name: 'u', domain: { name: 'Default' }, password: 'pw' }
          }
        },
        scope: { project: { name: 'hpc-demo', domain: { name: 'Default' } } }
      }
    });
  });

  it('uses the public endpoint of its region, caches the token and renews it before expiry', async () => {
    let now = NOW;
    const c = cloud(
      { 'GET /v2.1/limits': () => ({ status: 200, body: {} }) },
      () => now
    );
    const k = keystone(c, () => now);
    await k.request('compute', '/limits');
    await k.request('compute', '/limits');
    expect(c.tokens()).toBe(1);
    expect(c.calls[0]?.url).toBe('http://keystone:5000/v3/auth/tokens');
    expect(c.calls[1]?.url).toBe('http://nova:8774/v2.1/limits');
    expect(c.calls[1]?.headers['x-auth-token']).toBe('token-1');
    now = NOW + 3600_000 - 60_000; // within the renewal margin
    await k.request('compute', '/limits');
    expect(c.tokens()).toBe(2);
    expect(c.calls.at(-1)?.headers['x-auth-token']).toBe('token-2');
  });

  it('logs in again once when a service answers 401', async () => {
    let first = true;
    const c = cloud({
      'GET /v2.1/limits': () => {
        const status = first ? 401 : 200;
        first = false;
        return { status, body: {} };
      }
    });
    const res = await keystone(c).request('compute', '/limits');
    expect(res.status).toBe(200);
    expect(c.tokens()).toBe(2);
  });

  it('says that the bridge cannot log in, without the secret the cloud echoed', async () => {
    const c = cloud({
      'POST /v3/auth/tokens': () => ({
        status: 401,
        body: { error: { code: 401, message: `Invalid secret ${SECRET}` } }
      })
    });
    const e = await keystone(c)
      .endpoint('compute')
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CloudError);
    expect((e as CloudError).kind).toBe('auth');
    expect((e as Error).message).toMatch(
      /^The bridge cannot log in to the cloud Demo cloud .*ask your admin/
    );
    expect((e as Error).message).not.toContain(SECRET);
  });

  it('names a missing region and an unreachable cloud', async () => {
    const c = cloud({});
    const k = new Keystone({
      cloud: 'Demo cloud',
      authUrl: 'http://keystone:5000/v3',
      region: 'Nowhere',
      credentials: {
        applicationCredential: { id: 'i', secret: new Secret(SECRET, 'value') }
      },
      fetch: c.fetch
    });
    await expect(k.endpoint('compute')).rejects.toThrow(
      'The cloud Demo cloud has no public compute endpoint in region Nowhere'
    );
    const closed = await freePort('127.0.0.1');
    const down = new Keystone({
      cloud: 'Demo cloud',
      authUrl: `http://127.0.0.1:${closed}/v3`,
      region: 'RegionOne',
      credentials: {
        applicationCredential: { id: 'i', secret: new Secret(SECRET, 'value') }
      }
    });
    await expect(down.endpoint('compute')).rejects.toMatchObject({
      kind: 'unreachable',
      message: `The cloud Demo cloud is not reachable (http://127.0.0.1:${closed}: ECONNREFUSED)`
    });
  });
});

describe('Nova', () => {
  const server = {
    id: 'srv-1',
    name: 'hpcb-e1-r1',
    status: 'ACTIVE',
    addresses: {
      'hpc-cloud-net': [
        { addr: '10.77.0.12', version: 4, 'OS-EXT-IPS:type': 'fixed' }
      ]
    },
    metadata: { hpcb_endpoint: 'e1' },
    tags: ['hpc-bridge']
  };

  it('creates a server with base64 user-data, metadata, the tag and the microversion', async () => {
    const c = cloud({
      'POST /v2.1/servers': () => ({
        status: 202,
        body: { server: { id: 'srv-1' } }
      })
    });
    const id = await new Nova(keystone(c)).createServer({
      name: 'hpcb-e1-r1',
      flavorId: 'f1',
      imageId: 'i1',
      networkId: 'n1',
      securityGroups: ['hpc-serving'],
      userData: '#!/bin/sh\nexec server\n',
      metadata: { hpcb_endpoint: 'e1' },
      tags: ['hpc-bridge']
    });
    expect(id).toBe('srv-1');
    const call = c.calls.at(-1);
    expect(call?.headers['openstack-api-version']).toBe('compute 2.61');
    expect(call?.body).toEqual({
      server: {
        name: 'hpcb-e1-r1',
        flavorRef: 'f1',
        imageRef: 'i1',
        networks: [{ uuid: 'n1' }],
        security_groups: [{ name: 'hpc-serving' }],
        user_data: Buffer.from('#!/bin/sh\nexec server\n').toString('base64'),
        metadata: { hpcb_endpoint: 'e1' },
        tags: ['hpc-bridge']
      }
    });
  });

  it('turns a quota refusal into a sentence without the user-data', async () => {
    const userData = '#!/bin/sh\nexec server --api-key UPSTREAM-KEY-123\n';
    const c = cloud({
      'POST /v2.1/servers': call => ({
        status: 403,
        body: {
          forbidden: {
            code: 403,
            message: `Quota exceeded for instances: Requested 1, but already used 1 of 1 instances ${(call.body as { server: { user_data: string } }).server.user_data}`
          }
        }
      })
    });
    const e = (await new Nova(keystone(c))
      .createServer({
        name: 'x',
        flavorId: 'f',
        imageId: 'i',
        networkId: 'n',
        securityGroups: [],
        userData,
        metadata: {},
        tags: []
      })
      .catch((x: unknown) => x)) as CloudError;
    expect(e.kind).toBe('quota');
    expect(e.noCapacity).toBe(true);
    expect(e.message).toMatch(
      /^The cloud project's quota is used up: Quota exceeded for instances: Requested 1, but already used 1 of 1 instances/
    );
    expect(e.message).not.toContain(Buffer.from(userData).toString('base64'));
  });

  it('names a bad flavor (400) and a missing image', async () => {
    const c = cloud({
      'POST /v2.1/servers': () => ({
        status: 400,
        body: {
          badRequest: { code: 400, message: 'Flavor x could not be found.' }
        }
      }),
      'GET /v2/images?name=none': () => ({ status: 200, body: { images: [] } })
    });
    const nova = new Nova(keystone(c));
    await expect(
      nova.createServer({
        name: 'x',
        flavorId: 'x',
        imageId: 'i',
        networkId: 'n',
        securityGroups: [],
        userData: '',
        metadata: {},
        tags: []
      })
    ).rejects.toMatchObject({
      kind: 'bad_request',
      message:
        "The cloud Demo cloud refused to create a server: Flavor x could not be found. (check the image, flavor and network in the bridge's configuration)"
    });
    await expect(nova.imageId('none')).rejects.toThrow(
      'The cloud Demo cloud has no image named "none": check the bridge\'s configuration'
    );
  });

  it('resolves names once, and passes ids through', async () => {
    const c = cloud({
      'GET /v2.0/networks?name=hpc-cloud-net': () => ({
        status: 200,
        body: { networks: [{ id: 'net-1' }] }
      }),
      'GET /v2.1/flavors/detail': () => ({
        status: 200,
        body: {
          flavors: [
            {
              id: 'f1',
              name: 'g1.gpu',
              vcpus: 1,
              ram: 1024,
              extra_specs: { 'resources:VGPU': '1' }
            }
          ]
        }
      })
    });
    const nova = new Nova(keystone(c));
    expect(await nova.networkId('hpc-cloud-net')).toBe('net-1');
    expect(await nova.networkId('hpc-cloud-net')).toBe('net-1');
    expect(await nova.flavorId('g1.gpu')).toBe('f1');
    expect(await nova.flavorId('g1.gpu')).toBe('f1');
    const uuid = '0b8c4e5e-0f34-4c8e-9c1a-2f1e0d7c1a22';
    expect(await nova.imageId(uuid)).toBe(uuid);
    expect(
      c.calls
        .filter(x => !x.url.endsWith('/auth/tokens'))
        .map(x => new URL(x.url).pathname)
    ).toEqual(['/v2.0/networks', '/v2.1/flavors/detail']);
  });

  it('reads servers (null once deleted), lists by tag, reads the quota', async () => {
    const c = cloud({
      'GET /v2.1/servers/srv-1': () => ({ status: 200, body: { server } }),
      'GET /v2.1/servers/detail?tags=hpc-bridge': () => ({
        status: 200,
        body: { servers: [server] }
      }),
      'GET /v2.1/limits': () => ({
        status: 200,
        body: {
          limits: {
            absolute: {
              maxTotalInstances: 10,
              totalInstancesUsed: 2,
              maxTotalCores: 20,
              totalCoresUsed: 2,
              maxTotalRAMSize: 51200,
              totalRAMUsed: 2048
            }
          }
        }
      }),
      'DELETE /v2.1/servers/gone': () => ({
        status: 404,
        body: { itemNotFound: { message: 'gone' } }
      })
    });
    const nova = new Nova(keystone(c));
    expect(await nova.server('srv-1')).toMatchObject({
      id: 'srv-1',
      status: 'ACTIVE'
    });
    expect(await nova.server('gone')).toBeNull();
    expect((await nova.serversTagged('hpc-bridge')).map(s => s.id)).toEqual([
      'srv-1'
    ]);
    await expect(nova.deleteServer('gone')).resolves.toBeUndefined();
    expect(await nova.limits()).toEqual({
      instances: { used: 2, limit: 10 },
      cores: { used: 2, limit: 20 },
      ramMB: { used: 2048, limit: 51200 }
    });
  });
});
