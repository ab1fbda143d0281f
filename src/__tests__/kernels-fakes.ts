/** A kernels API the kernels model tests drive, and cluster kernels to feed it. */
import {
  type ClusterKernel,
  ClusterKernelSchema,
  type KernelList
} from '@hpc-bridge/server/contract';
import type { IKernelsApi } from '../kernels/api';
import { FakeStream } from './jobs-fakes';

/** A cluster kernel (validated by the contract) with `overrides`. */
export function clusterKernel(
  overrides: Partial<ClusterKernel> = {}
): ClusterKernel {
  return ClusterKernelSchema.parse({
    id: 'aaaaaaaaaaaa',
    owner: 'alice',
    jupyterKernelId: 'jk-1',
    profile: 'cpu-small',
    cluster: 'demo',
    partition: 'cpu',
    resources: { timeMinutes: 10, cpus: 1, memoryMB: 500, gpus: 0 },
    state: 'running',
    slurmId: '123',
    node: 'node1',
    pendingReason: null,
    queuePosition: null,
    expectedStart: null,
    walltimeEnd: null,
    endedReason: null,
    createdAt: '2026-12-07T10:00:00.000Z',
    lastActivity: '2026-12-07T10:00:00.000Z',
    updatedAt: '2026-12-07T10:00:00.000Z',
    ...overrides
  });
}

/** Answers `list()` from `lists` (the last one again when they run out). */
export class FakeKernelsApi implements IKernelsApi {
  lists: ClusterKernel[][] = [[]];
  readonly stream = new FakeStream();
  listCalls = 0;

  async list(): Promise<KernelList> {
    this.listCalls++;
    const kernels =
      this.lists.length > 1 ? this.lists.shift()! : (this.lists[0] ?? []);
    return { kernels };
  }

  async get(id: string): Promise<ClusterKernel> {
    const found = this.lists[0]?.find(kernel => kernel.id === id);
    if (!found) {
      throw new Error(`no kernel ${id}`);
    }
    return found;
  }

  events(): FakeStream {
    return this.stream;
  }
}
