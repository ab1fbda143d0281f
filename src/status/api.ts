import {
  HealthSchema,
  Routes,
  VersionSchema,
  WhoamiSchema
} from '@hpc-bridge/server/contract';
import type { Bridge } from '../tokens';
import type { BridgeTransport } from '../transport/transport';

/** Who the bridge sees, its version and its health. */
export class StatusApi {
  constructor(private readonly _transport: Pick<BridgeTransport, 'request'>) {}

  whoami(): Promise<Bridge.Whoami> {
    return this._transport.request('GET', Routes.whoami, WhoamiSchema, {});
  }

  version(): Promise<Bridge.Version> {
    return this._transport.request('GET', Routes.version, VersionSchema, {});
  }

  health(): Promise<Bridge.Health> {
    return this._transport.request('GET', Routes.health, HealthSchema, {});
  }
}
