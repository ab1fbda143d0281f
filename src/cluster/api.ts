import {
  ClusterListSchema,
  ProfileListSchema,
  Routes
} from '@hpc-bridge/server/contract';
import type { Bridge } from '../tokens';
import type { BridgeTransport } from '../transport/transport';

/** The cluster routes of the bridge: partitions with free resources, job profiles. */
export class ClusterApi {
  constructor(private readonly _transport: Pick<BridgeTransport, 'request'>) {}

  clusters(): Promise<Bridge.ClusterList> {
    return this._transport.request(
      'GET',
      Routes.clusters,
      ClusterListSchema,
      {}
    );
  }

  profiles(): Promise<Bridge.ProfileList> {
    return this._transport.request(
      'GET',
      Routes.profiles,
      ProfileListSchema,
      {}
    );
  }
}
