import {
  type Health,
  HealthSchema,
  Routes,
  type Version,
  VersionSchema,
  type Whoami,
  WhoamiSchema
} from '@hpc-bridge/server/contract';
import type { BridgeTransport } from '../transport/transport';

/** Who the bridge sees, its version and its health. */
export class StatusApi {
  constructor(private readonly _transport: Pick<BridgeTransport, 'request'>) {}

  whoami(): Promise<Whoami> {
    return this._transport.request('GET', Routes.whoami, WhoamiSchema, {});
  }

  version(): Promise<Version> {
    return this._transport.request('GET', Routes.version, VersionSchema, {});
  }

  health(): Promise<Health> {
    return this._transport.request('GET', Routes.health, HealthSchema, {});
  }
}
