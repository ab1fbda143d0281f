import {
  type ClusterList,
  ClusterListSchema,
  type ProfileList,
  ProfileListSchema,
  Routes
} from '@hpc-bridge/server/contract';
import type { BridgeTransport } from '../transport/transport';

/** The cluster routes of the bridge: partitions with free resources, job profiles. */
export class ClusterApi {
  constructor(private readonly _transport: Pick<BridgeTransport, 'request'>) {}

  clusters(): Promise<ClusterList> {
    return this._transport.request(
      'GET',
      Routes.clusters,
      ClusterListSchema,
      {}
    );
  }

  profiles(): Promise<ProfileList> {
    return this._transport.request(
      'GET',
      Routes.profiles,
      ProfileListSchema,
      {}
    );
  }
}
