/**
 * @jest-environment node
 */
import { CONTRACT_VERSION } from '@hpc-bridge/server/contract';
import { readFileSync } from 'fs';
import { join } from 'path';
import { BridgeClient } from '../core/client';
import { ClusterModel } from '../cluster/ClusterModel';
import { ConnectionModel } from '../status/ConnectionModel';
import { EXTENSION_VERSION } from '../version';
import { CLUSTERS, identityTrans, json, queuedFetch } from './helpers';

function clientWith(answers: Parameters<typeof queuedFetch>[0]) {
  const { fetch, requests } = queuedFetch(answers);
  const client = new BridgeClient({
    baseUrl: '/services/hpc-bridge/',
    getToken: () => 'secret-token',
    trans: identityTrans(),
    fetch
  });
  return { client, requests };
}

describe('ClusterModel', () => {
  const models: ClusterModel[] = [];
  afterEach(() => {
    models.splice(0).forEach(model => model.dispose());
  });

  function model(client: BridgeClient, refreshInterval = 3600) {
    const created = new ClusterModel({ client, refreshInterval, auto: false });
    models.push(created);
    return created;
  }

  it('is loading until the first answer, then holds the clusters', async () => {
    const { client } = clientWith([json(CLUSTERS)]);
    const clusters = model(client);
    let changes = 0;
    clusters.changed.connect(() => changes++);
    expect(clusters.loading).toBe(true);

    await clusters.refresh();

    expect(clusters.loading).toBe(false);
    expect(clusters.error).toBeNull();
    expect(clusters.clusters.map(c => c.name)).toEqual(['demo']);
    expect(clusters.updated).toBeInstanceOf(Date);
    expect(changes).toBeGreaterThan(0);
  });

  it('keeps the last clusters and exposes the error when the bridge fails', async () => {
    const { client } = clientWith([
      json(CLUSTERS),
      new TypeError('Failed to fetch')
    ]);
    const clusters = model(client);
    await clusters.refresh();
    await clusters.refresh();

    expect(clusters.error?.message).toContain('Cannot reach the HPC Bridge');
    expect(clusters.clusters).toHaveLength(1);
    expect(clusters.loading).toBe(false);
  });

  it('clears the error once the bridge answers again', async () => {
    const { client } = clientWith([
      new TypeError('Failed to fetch'),
      json(CLUSTERS)
    ]);
    const clusters = model(client);
    await clusters.refresh();
    expect(clusters.error).not.toBeNull();
    await clusters.refresh();
    expect(clusters.error).toBeNull();
  });

  it('polls at the configured interval', async () => {
    const { client, requests } = clientWith([
      json(CLUSTERS),
      json(CLUSTERS),
      json(CLUSTERS)
    ]);
    const clusters = new ClusterModel({ client, refreshInterval: 1 });
    models.push(clusters);
    clusters.refreshInterval = 0.05;
    expect(clusters.refreshInterval).toBe(1);
    await new Promise(resolve => setTimeout(resolve, 1500));
    expect(requests.length).toBeGreaterThanOrEqual(2);
  });

  it('stops polling when disposed', async () => {
    const { client, requests } = clientWith([json(CLUSTERS)]);
    const clusters = new ClusterModel({ client, refreshInterval: 1 });
    clusters.dispose();
    expect(clusters.isDisposed).toBe(true);
    await new Promise(resolve => setTimeout(resolve, 1200));
    expect(requests).toHaveLength(0);
    await clusters.refresh();
    expect(requests).toHaveLength(0);
  });
});

describe('ConnectionModel', () => {
  const WHOAMI = { name: 'alice', groups: ['ml101'], roles: ['researcher'] };

  it('knows the user and finds no mismatch for equal versions', async () => {
    const { client } = clientWith([
      json(WHOAMI),
      json({ name: 'hpc-bridge', version: '0.1.0', contract: CONTRACT_VERSION })
    ]);
    const model = new ConnectionModel({
      client,
      extensionVersion: '0.1.0',
      auto: false
    });
    await model.refresh();
    expect(model.user?.name).toBe('alice');
    expect(model.version?.version).toBe('0.1.0');
    expect(model.mismatch).toBeNull();
    model.dispose();
  });

  it('warns when the bridge version differs', async () => {
    const { client } = clientWith([
      json(WHOAMI),
      json({ name: 'hpc-bridge', version: '0.2.0', contract: CONTRACT_VERSION })
    ]);
    const model = new ConnectionModel({
      client,
      extensionVersion: '0.1.0',
      auto: false
    });
    await model.refresh();
    expect(model.mismatch).toEqual({
      kind: 'version',
      bridge: '0.2.0',
      extension: '0.1.0'
    });
    model.dispose();
  });

  it('reports the error and no user when the bridge is unreachable', async () => {
    const { client } = clientWith([
      new TypeError('Failed to fetch'),
      new TypeError('Failed to fetch')
    ]);
    const model = new ConnectionModel({ client, auto: false });
    await model.refresh();
    expect(model.user).toBeNull();
    expect(model.error?.message).toContain('Cannot reach the HPC Bridge');
    model.dispose();
  });

  it('ranks a contract difference above a version difference', () => {
    expect(
      ConnectionModel.compare(
        { name: 'hpc-bridge', version: '0.2.0', contract: '2' },
        { version: '0.1.0', contract: '1' }
      )
    ).toEqual({ kind: 'contract', bridge: '2', extension: '1' });
    expect(
      ConnectionModel.compare(null, { version: '0.1.0', contract: '1' })
    ).toBeNull();
  });
});

describe('EXTENSION_VERSION', () => {
  it("equals the package's version", () => {
    const pkg: unknown = JSON.parse(
      readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf-8')
    );
    expect(pkg).toMatchObject({ version: EXTENSION_VERSION });
  });
});
