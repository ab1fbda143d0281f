import type {
  ClusterList,
  Health,
  Job,
  JobEstimate,
  JobList,
  JobListQuery,
  JobSubmit,
  NotebookContent,
  ProfileList,
  SshCredential,
  Version,
  Whoami
} from '@hpc-bridge/server/contract';
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
  whoami(): Promise<Whoami> {
    return this._status.whoami();
  }

  version(): Promise<Version> {
    return this._status.version();
  }

  health(): Promise<Health> {
    return this._status.health();
  }

  clusters(): Promise<ClusterList> {
    return this._cluster.clusters();
  }

  profiles(): Promise<ProfileList> {
    return this._cluster.profiles();
  }

  submitJob(request: JobSubmit): Promise<Job> {
    return this._jobs.submitJob(request);
  }

  estimate(request: JobSubmit): Promise<JobEstimate> {
    return this._jobs.estimate(request);
  }

  listJobs(query: JobListQuery = {}): Promise<JobList> {
    return this._jobs.listJobs(query);
  }

  getJob(id: string): Promise<Job> {
    return this._jobs.getJob(id);
  }

  jobAction(id: string, action: Bridge.JobAction): Promise<Job> {
    return this._jobs.jobAction(id, action);
  }

  getOutput(id: string, element = 0): Promise<NotebookContent> {
    return this._jobs.getOutput(id, element);
  }

  sshCredential(cluster?: string): Promise<SshCredential> {
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
