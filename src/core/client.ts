import type * as contract from '@hpc-bridge/server/contract';
import { ClusterApi } from '../cluster/api';
import { JobsApi } from '../jobs/api';
import { StatusApi } from '../status/api';
import type { Bridge, IBridgeClient } from '../tokens';
import { BridgeTransport } from '../transport/transport';

/**
 * The default `IBridgeClient`: the transport with the calls of the status,
 * cluster and jobs features.
 *
 * `ServerConnection.makeRequest` is not used on purpose: it refuses URLs
 * outside the user's own server, and the bridge is a hub service.
 */
export class BridgeClient
  extends BridgeTransport<IBridgeClient>
  implements IBridgeClient
{
  whoami(): Promise<contract.Whoami> {
    return this._status.whoami();
  }

  version(): Promise<contract.Version> {
    return this._status.version();
  }

  health(): Promise<contract.Health> {
    return this._status.health();
  }

  clusters(): Promise<contract.ClusterList> {
    return this._cluster.clusters();
  }

  profiles(): Promise<contract.ProfileList> {
    return this._cluster.profiles();
  }

  submitJob(request: contract.JobSubmit): Promise<contract.Job> {
    return this._jobs.submitJob(request);
  }

  estimate(request: contract.JobSubmit): Promise<contract.JobEstimate> {
    return this._jobs.estimate(request);
  }

  listJobs(query: contract.JobListQuery = {}): Promise<contract.JobList> {
    return this._jobs.listJobs(query);
  }

  getJob(id: string): Promise<contract.Job> {
    return this._jobs.getJob(id);
  }

  jobAction(id: string, action: Bridge.JobAction): Promise<contract.Job> {
    return this._jobs.jobAction(id, action);
  }

  getOutput(id: string, element = 0): Promise<contract.NotebookContent> {
    return this._jobs.getOutput(id, element);
  }

  sshCredential(cluster?: string): Promise<contract.SshCredential> {
    return this._jobs.sshCredential(cluster);
  }

  logStream(
    id: string,
    options: Bridge.ILogOptions = {}
  ): AsyncGenerator<string, void, undefined> {
    return this._jobs.logStream(id, options);
  }

  private readonly _status = new StatusApi(this);
  private readonly _cluster = new ClusterApi(this);
  private readonly _jobs = new JobsApi(this);
}

export namespace BridgeClient {
  export const DEFAULT_TIMEOUT_MS = BridgeTransport.DEFAULT_TIMEOUT_MS;
  export const SERVICE_NAME = BridgeTransport.SERVICE_NAME;
  export type FetchFunction = BridgeTransport.FetchFunction;
  export type IOptions = BridgeTransport.IOptions;
  export type IResolveOptions = BridgeTransport.IResolveOptions;
  export const resolveBaseUrl = BridgeTransport.resolveBaseUrl;
}
