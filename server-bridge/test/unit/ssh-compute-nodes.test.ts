/**
 * Kernels' sockets on their compute node: the config's `ssh.computeNodes`, and the SSH
 * ports that open a socket on the node (through the login node) or on the login node.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { SshConnection, SshPool } from '../../src/adapters/ssh/client';
import { SshKernels } from '../../src/adapters/ssh/kernels';
import { sshUserClusterOf } from '../../src/adapters/ssh/targets';
import type { ISshTarget } from '../../src/adapters/ssh/target';
import { loadConfig } from '../../src/config';

const HOST_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC3o5Pn8Lq9ZOPxgz35GHBIqcutqA8RtnCTRnqIpR0Yb root@host\n';

function configWith(computeNodes: string) {
  const d = mkdtempSync(join(tmpdir(), 'hpc-bridge-nodes-'));
  writeFileSync(join(d, 'host.pub'), HOST_KEY);
  writeFileSync(join(d, 'node.pub'), HOST_KEY);
  writeFileSync(join(d, 'service_key'), 'KEY\n');
  writeFileSync(
    join(d, 'config.yaml'),
    `
hub: { apiUrl: http://127.0.0.1:8081/hub/api/, apiToken: { value: t } }
store: { path: ':memory:' }
clusters:
  - name: demo
    ssh:
      host: login.example
      hostKeyFile: host.pub
      serviceUser: hpcbridge
      serviceKey: { file: service_key }
${computeNodes}
`
  );
  return loadConfig(join(d, 'config.yaml'), {
    HPC_BRIDGE_SECRET_KEY: 'ab'.repeat(32)
  });
}

/** A connection that records what it was asked to open. */
function fakeConnection(label: string, opened: string[]): SshConnection {
  return {
    openStreamLocal: async (path: string) => {
      opened.push(`${label} unix:${path}`);
      return new PassThrough();
    },
    warm: async () => {
      opened.push(`${label} warm`);
    },
    forwardOut: async (host: string, port: number) => {
      opened.push(`${label} tcp:${host}:${port}`);
      return new PassThrough();
    }
  } as unknown as SshConnection;
}

describe('compute nodes in the config', () => {
  it('is absent by default: sockets on the login node', () => {
    expect(configWith('').clusters[0]?.ssh.computeNodes).toBeUndefined();
  });

  it('takes the port, the pinned key and an address template', () => {
    const nodes = configWith(`      computeNodes:
        hostKeyFile: node.pub
        address: '{node}.ib.example'`).clusters[0]?.ssh.computeNodes;
    expect(nodes).toMatchObject({ port: 22, address: '{node}.ib.example' });
    expect(nodes?.hostKeyFile.type).toBe('ssh-ed25519');
  });
});

describe('opening a kernel socket', () => {
  it('without compute nodes: on the login node, whatever the node', async () => {
    const opened: string[] = [];
    const kernels = new SshKernels(fakeConnection('login', opened));
    await kernels.openSocket('/home/alice/k-1', 'node7');
    expect(opened).toEqual(['login unix:/home/alice/k-1']);
  });

  it("with compute nodes: on the kernel's node, refusing names that are no node names", async () => {
    const opened: string[] = [];
    const kernels = new SshKernels(fakeConnection('login', opened), node =>
      fakeConnection(node, opened)
    );
    await kernels.prepareNode('node7');
    await kernels.openSocket('/home/alice/k-1', 'node7');
    expect(opened).toEqual(['node7 warm', 'node7 unix:/home/alice/k-1']);
    expect(() => kernels.openSocket('/home/alice/k-1', null)).toThrow(
      /not a compute node name/
    );
    expect(() =>
      kernels.openSocket('/home/alice/k-1', 'node7 -oProxyCommand=x')
    ).toThrow(/not a compute node name/);
  });

  it("connects to the node as the user, through the login node's connection, with the node's key", async () => {
    const config = configWith(`      computeNodes:
        port: 2222
        hostKeyFile: node.pub
        address: '{node}.ib.example'`);
    const cluster = config.clusters[0]!;
    const opened: string[] = [];
    const targets: { key: string; target: ISshTarget }[] = [];
    const pool = {
      get: (key: string, target: ISshTarget) => {
        targets.push({ key, target });
        return fakeConnection(key, opened);
      }
    } as unknown as SshPool;
    const ports = sshUserClusterOf(pool, cluster, 'alice', 'ALICE KEY');
    await ports.kernels!.openSocket('/home/alice/k-2', 'node7');
    const node = targets.find(t => t.key === 'demo/node7');
    expect(node?.target).toMatchObject({
      host: 'node7.ib.example',
      port: 2222,
      username: 'alice',
      privateKey: 'ALICE KEY',
      hostKey: cluster.ssh.computeNodes!.hostKeyFile,
      // A terminal session keeps the node's sshd from holding back small writes.
      interactive: true
    });
    await node?.target.jump?.();
    expect(opened).toEqual([
      'demo/node7 unix:/home/alice/k-2',
      'demo tcp:node7.ib.example:2222'
    ]);
  });
});
