import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError, loadConfig, redact, Secret } from '../../src/config';

const HOST_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC3o5Pn8Lq9ZOPxgz35GHBIqcutqA8RtnCTRnqIpR0Yb root@host\n';

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'hpc-bridge-config-'));
}

function write(d: string, name: string, text: string): string {
  const p = join(d, name);
  writeFileSync(p, text);
  return p;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) {
      return e.problems;
    }
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const GOOD = `
listen: { host: 127.0.0.1, port: 8765 }
basePath: /services/hpc-bridge/
hub:
  apiUrl: http://127.0.0.1:8081/hub/api/
  serviceName: hpc-bridge
  apiToken: { env: JUPYTERHUB_API_TOKEN }
roles:
  adminGroup: null
  instructorGroupSuffix: -instructors
store: { path: state/bridge.db }
clusters:
  - name: demo
    title: Demo cluster
    ssh:
      host: 127.0.0.1
      port: 2222
      hostKeyFile: host.pub
      serviceUser: hpcbridge
      serviceKey: { file: service_key }
s3:
  - name: demo
    endpoint: http://127.0.0.1:8080
    region: us-east-1
    accessKeyId: { value: "bridge:bridge" }
    secretAccessKey: { file: s3.secret }
`;

describe('loadConfig', () => {
  it('loads the documented example, resolving secrets, paths and the host key', () => {
    const d = dir();
    write(d, 'host.pub', HOST_KEY);
    write(d, 'service_key', 'PRIVATE KEY\n');
    write(d, 's3.secret', 's3-secret\n');
    const file = write(d, 'config.yaml', GOOD);
    const config = loadConfig(file, {
      JUPYTERHUB_API_TOKEN: 'hub-token',
      HPC_BRIDGE_SECRET_KEY: 'ab'.repeat(32)
    });

    expect(config.hub.apiUrl).toBe('http://127.0.0.1:8081/hub/api');
    expect(config.hub.apiToken.reveal()).toBe('hub-token');
    expect(config.hub.apiToken.source).toBe('env:JUPYTERHUB_API_TOKEN');
    expect(config.store.path).toBe(join(d, 'state/bridge.db'));
    expect(config.clusters[0]?.ssh.serviceKey.reveal()).toBe('PRIVATE KEY');
    expect(config.clusters[0]?.ssh.hostKeyFile.type).toBe('ssh-ed25519');
    expect(config.s3[0]?.secretAccessKey.reveal()).toBe('s3-secret');
    expect(config.logLevel).toBe('info');
    expect(config.secretKey?.source).toBe('env:HPC_BRIDGE_SECRET_KEY');
    expect(config.clusters[0]?.userMapping).toEqual({ template: '{user}' });
    expect(config.clusters[0]?.jobs).toEqual({
      root: '.hpc-bridge/jobs',
      python: '/usr/bin/python3'
    });
    expect(config.clusters[0]?.pollSeconds).toBe(10);
    expect(config.profiles).toEqual([]);
  });

  it('takes a PostgreSQL store by url, its password a secret, and refuses one in the url', () => {
    const d = dir();
    write(d, 'host.pub', HOST_KEY);
    write(d, 'service_key', 'PRIVATE KEY\n');
    write(d, 's3.secret', 's3-secret\n');
    const env = {
      JUPYTERHUB_API_TOKEN: 'hub-token',
      HPC_BRIDGE_SECRET_KEY: 'ab'.repeat(32),
      DB_PASSWORD: 'pw'
    };
    const pg = loadConfig(
      write(
        d,
        'pg.yaml',
        GOOD.replace(
          'store: { path: state/bridge.db }',
          'store: { url: "postgres://hpcb@db:5432/hpcb", password: { env: DB_PASSWORD } }'
        )
      ),
      env
    );
    expect(pg.store.url).toBe('postgres://hpcb@db:5432/hpcb');
    expect(pg.store.password?.reveal()).toBe('pw');
    expect(pg.store.path).toBeUndefined();
    const inUrl = write(
      d,
      'in-url.yaml',
      GOOD.replace(
        'store: { path: state/bridge.db }',
        'store: { url: "postgres://hpcb:pw@db/hpcb" }'
      )
    );
    expect(problemsOf(() => loadConfig(inUrl, env))).toEqual([
      `${inUrl}: store.url: give the password as store.password (a secret), not in the url`
    ]);
    const neither = write(
      d,
      'neither.yaml',
      GOOD.replace('{ path: state/bridge.db }', '{}')
    );
    expect(problemsOf(() => loadConfig(neither, env))).toEqual([
      `${neither}: store: the store needs a path (SQLite) or a url (PostgreSQL)`
    ]);
  });

  it('needs the secret key when clusters are configured, and checks profiles', () => {
    const d = dir();
    write(d, 'host.pub', HOST_KEY);
    write(d, 'service_key', 'PRIVATE KEY\n');
    write(d, 's3.secret', 's3-secret\n');
    const file = write(d, 'config.yaml', GOOD);
    const env = { JUPYTERHUB_API_TOKEN: 'hub-token' };
    expect(problemsOf(() => loadConfig(file, env))).toEqual([
      `${file}: secretKey: required when clusters are configured: 64 hex characters, by default from $HPC_BRIDGE_SECRET_KEY (not set)`
    ]);
    expect(
      problemsOf(() =>
        loadConfig(file, { ...env, HPC_BRIDGE_SECRET_KEY: 'not-hex' })
      )
    ).toEqual([
      `${file}: secretKey: env:HPC_BRIDGE_SECRET_KEY: must be 64 hex characters (a 32-byte key)`
    ]);

    const withProfiles = write(
      d,
      'profiles.yaml',
      `${GOOD}
profiles:
  - name: small
    title: Small
    cluster: demo
    partition: cpu
    timeMinutes: { default: 10, max: 60 }
    cpus: { default: 1, min: 1, max: 2 }
    memoryMB: { default: 500, max: 4000 }
    gpus: { default: 0, max: 0 }
  - name: bad
    title: Bad
    cluster: nowhere
    partition: "cpu;x"
    timeMinutes: { default: 100, max: 60 }
    cpus: { default: 1, max: 2 }
    memoryMB: { default: 500, max: 4000 }
    gpus: { default: 0, max: 0 }
`
    );
    const problems = problemsOf(() =>
      loadConfig(withProfiles, {
        ...env,
        HPC_BRIDGE_SECRET_KEY: 'ab'.repeat(32)
      })
    );
    expect(problems).toEqual([
      `${withProfiles}: profiles[1].partition: a partition name`,
      `${withProfiles}: profiles[1].timeMinutes: needs min <= default <= max`
    ]);
    const ok = problemsOf(() =>
      loadConfig(
        write(
          d,
          'p2.yaml',
          `${GOOD}\nprofiles:\n  - { name: x, title: X, cluster: nowhere, partition: cpu, timeMinutes: { default: 1, max: 1 }, cpus: { default: 1, max: 1 }, memoryMB: { default: 1, max: 1 }, gpus: { default: 0, max: 0 } }\n`
        ),
        { ...env, HPC_BRIDGE_SECRET_KEY: 'ab'.repeat(32) }
      )
    );
    expect(ok).toEqual([
      expect.stringMatching(
        /profiles\[0\]\.cluster: no cluster named "nowhere"/
      )
    ]);
  });

  it('takes defaults from the hub environment', () => {
    const d = dir();
    const file = write(d, 'config.yaml', 'store: { path: ":memory:" }\n');
    const config = loadConfig(file, {
      JUPYTERHUB_API_URL: 'http://hub:8081/hub/api',
      JUPYTERHUB_API_TOKEN: 't',
      JUPYTERHUB_SERVICE_PREFIX: '/services/hpc-bridge'
    });
    expect(config.basePath).toBe('/services/hpc-bridge/');
    expect(config.hub.apiUrl).toBe('http://hub:8081/hub/api');
    expect(config.hub.serviceName).toBe('hpc-bridge');
    expect(config.hub.tokenCacheMs).toBe(5_000);
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 8765 });
    expect(config.clusters).toEqual([]);
    // One replica, named by host and pid, leading under a 10 s lease.
    expect(config.replicas).toEqual({
      leaseSeconds: 10,
      heartbeatSeconds: 5
    });
  });

  it('keeps the hub token cache at or under 30 s', () => {
    const d = dir();
    const file = write(
      d,
      'config.yaml',
      'store: { path: ":memory:" }\nhub: { tokenCacheMs: 60000 }\n'
    );
    const env = {
      JUPYTERHUB_API_URL: 'http://hub:8081/hub/api',
      JUPYTERHUB_API_TOKEN: 't'
    };
    expect(problemsOf(() => loadConfig(file, env))).toEqual([
      expect.stringMatching(/hub\.tokenCacheMs: .*30000/)
    ]);
  });

  it('lists every problem at once, each with the file and the key', () => {
    const d = dir();
    const file = write(
      d,
      'config.yaml',
      `
listen: { host: 127.0.0.1, port: 99999, tls: true }
hub:
  serviceName: hpc-bridge
  apiToken: { env: NOT_SET_ANYWHERE }
store: { path: /tmp/x.db }
colour: blue
clusters:
  - name: Demo
    ssh:
      host: 127.0.0.1
      hostKeyFile: missing.pub
      serviceUser: hpcbridge
      serviceKey: { file: missing_key }
  - name: b
    ssh: { host: h, hostKeyFile: missing.pub, serviceUser: u, serviceKey: { value: v, env: X } }
s3:
  - name: demo
    endpoint: not a url
    accessKeyId: { value: a }
`
    );
    const problems = problemsOf(() => loadConfig(file, {}));
    const expected: [string, RegExp][] = [
      ['listen.port', /too big|<=/i],
      ['listen.tls', /unknown key/],
      ['hub.apiUrl', /required.*JUPYTERHUB_API_URL/],
      ['hub.apiToken', /NOT_SET_ANYWHERE is not set/],
      ['colour', /unknown key/],
      ['clusters[0].name', /lowercase/],
      [
        'clusters[0].ssh.hostKeyFile',
        /cannot read host key file .*missing\.pub: no such file/
      ],
      [
        'clusters[0].ssh.serviceKey',
        /cannot read secret file .*missing_key: no such file/
      ],
      ['clusters[1].ssh.serviceKey', /exactly one of env, file or value/],
      ['s3[0].endpoint', /http\(s\) URL/],
      ['s3[0].secretAccessKey', /required/]
    ];
    for (const [key, message] of expected) {
      const line = problems.find(p => p.startsWith(`${file}: ${key}: `));
      expect({ key, line }).toEqual({
        key,
        line: expect.stringMatching(message)
      });
    }
    expect(problems).toHaveLength(expected.length + 1); // + clusters[1] host key file
  });

  it('rejects duplicate cluster names and a bad host key file', () => {
    const d = dir();
    write(d, 'host.pub', 'ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ== x\n');
    const file = write(
      d,
      'config.yaml',
      `
hub: { apiUrl: http://h/hub/api, apiToken: { value: t } }
store: { path: ":memory:" }
clusters:
  - { name: a, ssh: { host: h, hostKeyFile: host.pub, serviceUser: u, serviceKey: { value: k } } }
  - { name: a, ssh: { host: h, hostKeyFile: host.pub, serviceUser: u, serviceKey: { value: k } } }
`
    );
    const problems = problemsOf(() => loadConfig(file, {}));
    expect(problems).toContain(`${file}: clusters[1].name: duplicate name "a"`);
    expect(
      problems.filter(p => p.includes('does not match the key blob'))
    ).toHaveLength(2);
  });

  it('reports unreadable files and YAML syntax errors', () => {
    const d = dir();
    expect(problemsOf(() => loadConfig(join(d, 'nope.yaml'), {}))).toEqual([
      `${join(d, 'nope.yaml')}: cannot read: no such file`
    ]);
    const bad = write(d, 'bad.yaml', 'hub: [unclosed\n');
    expect(problemsOf(() => loadConfig(bad, {}))[0]).toMatch(
      new RegExp(`^${bad}: line \\d+: `)
    );
  });

  it('never prints secret values', () => {
    const d = dir();
    const file = write(
      d,
      'config.yaml',
      'hub: { apiUrl: http://h/hub/api, apiToken: { value: super-secret-token } }\nstore: { path: ":memory:" }\n'
    );
    const config = loadConfig(file, {});
    expect(JSON.stringify(config)).not.toContain('super-secret-token');
    expect(inspect(config, { depth: 10 })).not.toContain('super-secret-token');
    expect(`${config.hub.apiToken}`).toBe('[redacted]');
    expect(
      JSON.stringify(
        redact({
          nested: { s: new Secret('x1', 'value'), apiToken: 'x2', ok: 'y' }
        })
      )
    ).toBe('{"nested":{"s":"[redacted]","apiToken":"[redacted]","ok":"y"}}');
  });
});
