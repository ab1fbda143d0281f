import {
  type ClusterKernel,
  ClusterKernelSchema,
  type KernelList,
  KernelListSchema,
  Routes
} from '@hpc-bridge/server/contract';
import type { Bridge, IBridgeClient } from '../tokens';

/** The cluster kernel routes the panels use; the kernels models talk to the bridge only through this. */
export interface IKernelsApi {
  /** The user's cluster kernels, newest first. */
  list(): Promise<KernelList>;
  /** One of the user's cluster kernels. */
  get(id: string): Promise<ClusterKernel>;
  /** The user's live event stream (`kernel` events among others). */
  events(): Bridge.IEventStream;
}

export class KernelsApi implements IKernelsApi {
  constructor(
    private readonly _client: Pick<IBridgeClient, 'request' | 'events'>
  ) {}

  list(): Promise<KernelList> {
    return this._client.request('GET', Routes.kernels, KernelListSchema);
  }

  get(id: string): Promise<ClusterKernel> {
    return this._client.request('GET', Routes.kernel(id), ClusterKernelSchema);
  }

  events(): Bridge.IEventStream {
    return this._client.events();
  }
}
