import type { FastifySchema } from 'fastify';
import { ErrorBodySchema, type EndpointMetrics } from '../contract';
import type { RouteAccess } from '../auth/policy';
import type { IClusterBackend, IS3Backend } from '../admin/health-checks';
import type { IHubPort } from '../ports/hub';
import type { IClusterAccess } from '../credentials/access';
import type { EndpointEvents } from '../endpoints/events';
import type { EndpointService } from '../endpoints/service';
import type { UserModels } from '../endpoints/user-models';
import type { JobEvents } from '../jobs/events';
import type { JobService } from '../jobs/service';
import type { KernelEvents } from '../kernels/events';
import type { StorageService } from '../storage/service';

export type { IClusterBackend, IS3Backend };

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
  /** Cluster kernels' changes, for the same stream (absent: no kernel events). */
  kernelEvents?: KernelEvents;
  /** Serving endpoints' changes, for the same stream (absent: no endpoint events). */
  endpointEvents?: EndpointEvents;
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

/** What the routes of users' own models need on top. */
export interface IModelsContext extends IRouteContext {
  models: UserModels;
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

/**
 * A hub-authenticated route's options: who may call it (`policy.…()`) and its schema,
 * listed under `tag` in the OpenAPI document.
 */
export function declareRoute<S extends FastifySchema>(
  tag: string,
  config: { access: RouteAccess },
  schema: S
): { config: { access: RouteAccess }; schema: S & IDocumented } {
  return { config, schema: { ...schema, tags: [tag], security: SECURITY } };
}

export interface IDocumented {
  tags: string[];
  security: typeof SECURITY;
}
