import { ErrorBodySchema, type EndpointMetrics } from '../contract';
import type { IHubPort } from '../adapters/hub';
import type { IClusterAccess } from '../credentials/access';
import type { EndpointService } from '../endpoints/service';
import type { JobEvents } from '../jobs/events';
import type { JobService } from '../jobs/service';
import type { IS3Port } from '../ports/s3';
import type { ISlurmPort } from '../ports/slurm';
import type { StorageService } from '../storage/service';

export interface IClusterBackend {
  name: string;
  title: string;
  slurm: ISlurmPort;
}

export interface IS3Backend {
  name: string;
  port: IS3Port;
}

/** What route plugins get: backends and a few settings (auth comes from each route's policy). */
export interface IRouteContext {
  version: string;
  hub: IHubPort;
  clusters: readonly IClusterBackend[];
  s3: readonly IS3Backend[];
  /** Limit for each backend call made while answering a request. */
  backendTimeoutMs: number;
}

/** What the jobs, events and credentials routes need on top. */
export interface IJobsContext extends IRouteContext {
  jobs: JobService;
  access: IClusterAccess;
  events: JobEvents;
  /** Seconds between SSE pings; default 15. */
  pingMs?: number;
  /** Bytes an event stream may buffer for a client that does not read; default 8 MiB. */
  sseMaxBufferedBytes?: number;
}

/** What the storage routes need on top. */
export interface IStorageContext extends IRouteContext {
  storage: StorageService;
  /** The bridge's URL path (`/services/hpc-bridge/`), for share links. */
  basePath: string;
  /** Absolute hub URL for share links; default: the request's scheme and host. */
  linkBaseUrl?: string;
}

/** What the endpoint routes (lifecycle, model catalog) need on top. */
export interface IEndpointsContext extends IRouteContext {
  endpoints: EndpointService;
  /** An endpoint's recent traffic (the gateway's usage); the route exists only when given. */
  metrics?: (endpointId: string) => EndpointMetrics | null;
}

/** Error responses every authenticated route declares. */
export const authErrorResponses = {
  400: ErrorBodySchema,
  401: ErrorBodySchema,
  403: ErrorBodySchema,
  500: ErrorBodySchema,
  503: ErrorBodySchema
} as const;

export const publicErrorResponses = {
  400: ErrorBodySchema,
  500: ErrorBodySchema
} as const;

export const SECURITY = [{ hubToken: [] }];

/** Runs `fn` with an abort signal and a deadline; rejects with a clear message on timeout. */
export async function withTimeout<T>(
  ms: number,
  fn: (signal: AbortSignal) => Promise<T>
): Promise<T> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ac.abort();
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([fn(ac.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
