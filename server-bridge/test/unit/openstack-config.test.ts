/** The `serving.providers.openstack` block: the stack's fragment, defaults, problems with their paths. */
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config';
import { modelCatalog } from '../../src/endpoints/catalog';
import { SERVING_CONFIG } from './endpoints-fakes';

const BASE = {
  basePath: '/services/hpc-bridge/',
  hub: { apiUrl: 'http://hub.invalid/hub/api', apiToken: { value: 't' } },
  store: { path: ':memory:' }
};

const CLOUD = {
  authUrl: 'http://127.0.0.1:5000/v3',
  auth: {
    applicationCredential: { id: 'abc', secret: { value: 'app-secret' } }
  },
  image: 'hpc-serving',
  network: 'hpc-cloud-net',
  flavors: [{ gpus: 1, flavor: 'g1.gpu' }]
};

function withCloud(openstack: unknown, models = SERVING_CONFIG.models) {
  return {
    ...BASE,
    ...SERVING_CONFIG,
    serving: {
      ...SERVING_CONFIG.serving,
      providers: { local: { maxReplicas: 2 }, openstack }
    },
    models
  };
}

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw, 'c.yaml', {});
  } catch (e) {
    if (e instanceof ConfigError) {
      return e.problems;
    }
    throw e;
  }
  return [];
}

describe('openstack provider config', () => {
  it('reads the stack fragment with the application credential from files', () => {
    const stackDir = mkdtempSync(join(tmpdir(), 'hpcb-os-'));
    mkdirSync(join(stackDir, 'openstack'));
    writeFileSync(join(stackDir, 'openstack', 'appcred.id'), 'cred-id\n');
    writeFileSync(join(stackDir, 'openstack', 'appcred.secret'), 's3cr3t\n');
    const fragment = readFileSync(
      resolve(__dirname, '../../../stack/conf/bridge-openstack.yaml'),
      'utf8'
    ).replace(/@STACK_DIR@/g, stackDir);
    const { openstack } = parse(`providers:\n${fragment}`).providers;
    const config = parseConfig(withCloud(openstack), 'c.yaml', {});
    const os = config.serving.providers.openstack;
    if (os?.auth.applicationCredential === undefined) {
      throw new Error('no application credential');
    }
    expect(os.auth.applicationCredential.id.reveal()).toBe('cred-id');
    expect(os.auth.applicationCredential.secret.reveal()).toBe('s3cr3t');
    expect(JSON.stringify(config)).not.toContain('s3cr3t');
    expect(os.flavors.map(f => [f.gpus, f.flavor])).toEqual([
      [0, 'm1.small'],
      [1, 'g1.gpu'],
      [2, 'g2.gpu']
    ]);
    expect(os).toMatchObject({
      image: 'hpc-serving',
      network: 'hpc-cloud-net',
      securityGroups: ['hpc-serving'],
      port: 8080,
      userData: '#!/bin/sh\nexec {command}\n',
      onStop: 'delete'
    });
  });

  it('fills defaults and accepts password auth', () => {
    const config = parseConfig(
      withCloud({
        ...CLOUD,
        auth: {
          password: {
            username: 'hpc-bridge',
            password: { env: 'OS_PASSWORD' },
            projectName: 'hpc-demo'
          }
        }
      }),
      'c.yaml',
      { OS_PASSWORD: 'pw' }
    );
    const os = config.serving.providers.openstack;
    expect(os).toMatchObject({
      title: 'Cloud',
      region: 'RegionOne',
      port: 8080,
      onStop: 'delete',
      bootMinutes: 10,
      securityGroups: [],
      userData: '#!/bin/sh\nexec {command}\n'
    });
    if (os?.auth.password === undefined) {
      throw new Error('no password auth');
    }
    expect(os.auth.password).toMatchObject({
      projectName: 'hpc-demo',
      userDomainName: 'Default',
      projectDomainName: 'Default'
    });
    expect(os.auth.password.password.reveal()).toBe('pw');
    expect(config.serving).toMatchObject({
      fallbackAfterMinutes: 5,
      reconcileSeconds: 60
    });
  });

  it('lists every problem with its key path', () => {
    expect(
      problems(
        withCloud({
          ...CLOUD,
          authUrl: 'keystone',
          auth: { applicationCredential: { id: 'x' } },
          userData: '#!/bin/sh\n{program} --port {port}\n',
          flavors: [
            { gpus: 1, flavor: 'a' },
            { gpus: 1, flavor: 'b' }
          ],
          onStop: 'suspend'
        })
      )
    ).toEqual([
      'c.yaml: serving.providers.openstack.authUrl: must be the http(s) URL of Keystone, e.g. https://cloud.example.org:5000/v3',
      'c.yaml: serving.providers.openstack.auth.applicationCredential.secret: required (object)',
      'c.yaml: serving.providers.openstack.userData: must contain {command}',
      'c.yaml: serving.providers.openstack.userData: unknown placeholder {program} (allowed: {command} {host} {port})',
      'c.yaml: serving.providers.openstack.flavors[1].gpus: two flavors for 1 GPUs',
      'c.yaml: serving.providers.openstack.onStop: Invalid option: expected one of "delete"|"shelve"'
    ]);
  });

  it('lets a model name openstack where the cloud is not configured, and offers only configured providers', () => {
    const m = {
      ...SERVING_CONFIG.models[0],
      providers: ['local', 'openstack']
    };
    const config = parseConfig(
      { ...BASE, ...SERVING_CONFIG, models: [m] },
      'c.yaml',
      {}
    );
    expect(modelCatalog(config).models[0]?.providers).toEqual(['local']);
    const withOs = parseConfig(withCloud(CLOUD, [m]), 'c.yaml', {});
    const catalog = modelCatalog(withOs);
    expect(catalog.models[0]?.providers).toEqual(['local', 'openstack']);
    expect(catalog.providers.map(p => [p.name, p.title])).toEqual([
      ['local', 'Bridge host'],
      ['openstack', 'Cloud']
    ]);
  });
});
