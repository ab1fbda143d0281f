/**
 * @jest-environment node
 */
import type { ClusterKernel } from '@hpc-bridge/server/contract';
import { AdminModel } from '../admin/AdminModel';
import type { IAdminApi } from '../admin/api';
import { clusterKernel } from './kernels-fakes';

/** An admin API whose only data is the running cluster kernels. */
function api(
  kernels: ClusterKernel[],
  roles = ['admin']
): IAdminApi & {
  kernelCalls: number;
} {
  const fake = {
    kernelCalls: 0,
    whoami: async () => ({ name: 'admin', roles }),
    overview: async () => {
      throw new Error('not this tab');
    },
    usage: async () => {
      throw new Error('not this tab');
    },
    health: async () => {
      throw new Error('not this tab');
    },
    audit: async () => [],
    exportAudit: async () => new Blob([]),
    kernels: async () => {
      fake.kernelCalls++;
      return kernels.map(k => ({ ...k }));
    }
  };
  return fake;
}

describe('AdminModel: cluster kernels', () => {
  it('lists every user’s running kernels, oldest first, on the Kernels tab', async () => {
    const fake = api([
      clusterKernel({
        id: 'bbbbbbbbbbbb',
        owner: 'bob',
        node: 'node2',
        slurmId: '456',
        createdAt: '2026-12-07T11:00:00.000Z'
      }),
      clusterKernel({
        owner: 'alice',
        state: 'pending',
        node: null,
        createdAt: '2026-12-07T10:00:00.000Z'
      })
    ]);
    const model = new AdminModel({ api: fake });
    await model.start();
    model.visible = true;
    model.setTab('kernels');
    await model.refresh();
    expect(
      model.kernels?.map(k => [k.owner, k.node, k.slurmId, k.state])
    ).toEqual([
      ['alice', null, '123', 'pending'],
      ['bob', 'node2', '456', 'running']
    ]);
    expect(model.error).toBeNull();
    model.dispose();
  });

  it('does not ask for kernels for users who are not admins', async () => {
    const fake = api([clusterKernel()], ['researcher']);
    const model = new AdminModel({ api: fake });
    await model.start();
    model.visible = true;
    model.setTab('kernels');
    await model.refresh();
    expect(model.kernels).toBeNull();
    expect(fake.kernelCalls).toBe(0);
    model.dispose();
  });
});
