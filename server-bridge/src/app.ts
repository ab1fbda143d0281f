/**
 * Builds the bridge's Fastify instance from its dependencies. Never listens:
 * `main.ts` does, tests use `app.inject()`.
 */
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawServerDefault
} from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider
} from 'fastify-type-provider-zod';
import { AdminDashboard } from './admin/dashboard';
import { HealthHistory } from './admin/health-history';
import type { GroupDirectory } from './admin/hub-groups';
import type { IHubPort } from './ports/hub';
import { authHook, decorateUser } from './auth/plugin';
import { HubAuth, type FetchUser } from './auth/hub-auth';
import { accessHooks, type IDeclaredRoute } from './auth/policy';
import type { BridgeConfig } from './config';
import { CONTRACT_VERSION, type Replicas } from './contract';
import { installErrorHandling } from './errors';
import {
  drainBeforeReply,
  dropStalledBodies,
  httpLimitOptions
} from './http-limits';
import type { IClusterAccess } from './credentials/access';
import type { Gateway } from './endpoints/gateway';
import type { EndpointKeys } from './endpoints/keys';
import type { EndpointEvents } from './endpoints/events';
import type { EndpointService } from './endpoints/service';
import type { EndpointUsage } from './endpoints/usage';
import type { UserModels } from './endpoints/user-models';
import type { JobEvents } from './jobs/events';
import type { JobService } from './jobs/service';
import type { KernelEvents } from './kernels/events';
import type { KernelService } from './kernels/service';
import { kernelsRoutes } from './routes/kernels';
import { clustersRoutes } from './routes/clusters';
import { credentialsRoutes } from './routes/credentials';
import { endpointKeysRoutes } from './routes/endpoint-keys';
import { endpointsRoutes } from './routes/endpoints';
import { modelsRoutes } from './routes/models';
import { eventsRoutes } from './routes/events';
import { gatewayPrefix, gatewayRoutes } from './routes/gateway';
import { jobsRoutes } from './routes/jobs';
import { adminRoutes } from './routes/admin';
import { auditRoutes } from './routes/audit';
import { coursesRoutes } from './routes/courses';
import { CourseService } from './courses/service';
import { AssistantEndpoints } from './assistant/endpoints';
import { AssistantService } from './assistant/service';
import { assistantRoutes } from './routes/assistant';
import { storageRoutes } from './routes/storage';
import { lineageRoutes } from './routes/lineage';
import type { LineageService } from './lineage/service';
import { triggersRoutes } from './routes/triggers';
import type { TriggerService } from './triggers/service';
import type {
  IClusterBackend,
  IEndpointsContext,
  IJobsContext,
  IRouteContext,
  IS3Backend,
  IStorageContext
} from './routes/context';
import { healthRoutes } from './routes/health';
import { openapiRoutes, withAccess } from './routes/openapi';
import { versionRoutes } from './routes/version';
import { whoamiRoutes } from './routes/whoami';
import type { StorageService } from './storage/service';
import type { Store } from './store';
import { BRIDGE_VERSION } from './version';
import { named } from './routes/named';

export type { IClusterBackend, IS3Backend } from './routes/context';

export interface IAppDeps {
  config: BridgeConfig;
  logger: FastifyBaseLogger;
  store: Store;
  /** Asks the hub about a user's token (`GET {hub.apiUrl}/user`). */
  fetchUser: FetchUser;
  hub: IHubPort;
  clusters: readonly IClusterBackend[];
  s3: readonly IS3Backend[];
  version?: string;
  /** Limit for each backend call made while answering a request; default 15 s. */
  backendTimeoutMs?: number;
  /** Jobs, SSE events and SSH credentials; their routes exist only when given. */
  jobs?: {
    service: JobService;
    access: IClusterAccess;
    events: JobEvents;
    pingMs?: number;
  };
  /** Cluster kernels and their channel relay; their routes exist only when given. */
  kernels?: { service: KernelService; events: KernelEvents };
  /** Storage tiers, links, uploads; their routes exist only when given. */
  storage?: StorageService;
  /** What made the objects jobs wrote; its route exists only when given. */
  lineage?: LineageService;
  /** Triggers and their runs; their routes exist only when given. */
  triggers?: TriggerService;
  /**
   * Serving endpoints: lifecycle and catalog routes under /api/v1; with `keys`, the
   * key and metrics routes; with `gateway`, the OpenAI-compatible routes at
   * basePath + `v1/…`.
   */
  endpoints?: {
    service: EndpointService;
    keys?: { keys: EndpointKeys; usage: EndpointUsage };
    gateway?: Gateway;
    /** Users' own model files: the routes that register and remove them. */
    models?: UserModels;
    /** Endpoints' changes, for their owners' event streams (absent: no endpoint events). */
    events?: EndpointEvents;
  };
  /** The hub's groups and members, for admin usage per group (absent: by=group answers 503). */
  hubGroups?: GroupDirectory;
  /** The replica answering and the leading one, for the admins' health view. */
  replicas?: () => Replicas;
  /** Starts the job pollers; `main.ts` calls it once the app listens (tests do not). */
  startBackground?: () => void;
  /** Releases what the dependencies hold (connections, the store); run on `app.close()`. */
  close?: () => Promise<void>;
}

export type BridgeApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export async function buildApp(deps: IAppDeps): Promise<BridgeApp> {
  const { config } = deps;
  const version = deps.version ?? BRIDGE_VERSION;
  const app = Fastify({
    loggerInstance: deps.logger,
    trustProxy: false,
    requestIdHeader: false,
    routerOptions: { ignoreTrailingSlash: true },
    ...httpLimitOptions
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  dropStalledBodies(app);
  drainBeforeReply(app);
  decorateUser(app);
  // Kernel channels are WebSockets; the auth hooks run before the upgrade.
  await app.register(websocket, { options: { maxPayload: 256 * 1024 * 1024 } });
  // A refused upgrade (401, 404, 409) is a plain answer on a socket the plugin destroys
  // right after it: without `Connection: close` a keep-alive client (the hub's proxy)
  // puts that socket back in its pool and answers its next request, anyone's, with 503.
  app.addHook('onSend', async (request, reply) => {
    if (request.ws) {
      void reply.header('connection', 'close');
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'HPC Bridge',
        version,
        description: `HPC Bridge HTTP API, contract version ${CONTRACT_VERSION}.`
      },
      components: {
        securitySchemes: {
          hubToken: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description:
              'A JupyterHub token of the user, sent as "token <TOKEN>".'
          }
        }
      }
    },
    transform: withAccess(jsonSchemaTransform),
    transformObject: jsonSchemaTransformObject
  });

  const auth = new HubAuth({
    policy: {
      serviceName: config.hub.serviceName,
      adminGroup: config.roles.adminGroup,
      instructorGroupSuffix: config.roles.instructorGroupSuffix
    },
    fetchUser: deps.fetchUser,
    positiveTtlMs: config.hub.tokenCacheMs
  });

  const requireUser = authHook(auth);
  // Every route declares who may call it; the auth hooks come from that declaration.
  const declared: IDeclaredRoute[] = [];
  app.decorate('declaredRoutes', declared);
  app.addHook('onRoute', accessHooks(requireUser, declared));

  const ctx: IRouteContext = {
    version,
    hub: deps.hub,
    clusters: deps.clusters,
    s3: deps.s3,
    backendTimeoutMs: deps.backendTimeoutMs ?? 15_000
  };

  const prefix = config.basePath.replace(/\/+$/, '');
  await app.register(
    named(async api => {
      await api.register(named(versionRoutes), ctx);
      await api.register(named(openapiRoutes));
      await api.register(named(whoamiRoutes), ctx);
      await api.register(named(healthRoutes), ctx);
      await api.register(named(clustersRoutes), ctx);
      if (deps.jobs !== undefined) {
        const jobsCtx: IJobsContext = {
          ...ctx,
          jobs: deps.jobs.service,
          access: deps.jobs.access,
          events: deps.jobs.events,
          ...(deps.kernels === undefined
            ? {}
            : { kernelEvents: deps.kernels.events }),
          ...(deps.endpoints?.events === undefined
            ? {}
            : { endpointEvents: deps.endpoints.events }),
          ...(deps.jobs.pingMs === undefined
            ? {}
            : { pingMs: deps.jobs.pingMs })
        };
        await api.register(named(jobsRoutes), jobsCtx);
        await api.register(named(eventsRoutes), jobsCtx);
        await api.register(named(credentialsRoutes), jobsCtx);
      }
      if (deps.kernels !== undefined) {
        await api.register(named(kernelsRoutes), {
          ...ctx,
          kernels: deps.kernels.service
        });
      }
      await api.register(named(auditRoutes), { ...ctx, store: deps.store });
      const usage = deps.endpoints?.keys?.usage;
      await api.register(named(adminRoutes), {
        ...ctx,
        health: new HealthHistory(deps.store),
        ...(deps.replicas === undefined ? {} : { replicas: deps.replicas }),
        dashboard: new AdminDashboard({
          store: deps.store,
          tiers: config.storage.tiers,
          ...(deps.storage === undefined ? {} : { storage: deps.storage }),
          ...(deps.endpoints === undefined
            ? {}
            : { endpoints: deps.endpoints.service }),
          ...(usage === undefined ? {} : { flushTokens: () => usage.flush() }),
          ...(deps.hubGroups === undefined ? {} : { groups: deps.hubGroups })
        })
      });
      const courses = new CourseService({
        store: deps.store,
        ...(deps.endpoints === undefined
          ? {}
          : { endpoints: deps.endpoints.service }),
        ...(deps.endpoints?.keys === undefined
          ? {}
          : { keys: deps.endpoints.keys }),
        ...(deps.storage === undefined ? {} : { storage: deps.storage }),
        ...(deps.hubGroups === undefined ? {} : { groups: deps.hubGroups }),
        profiles: config.profiles,
        instructorGroupSuffix: config.roles.instructorGroupSuffix
      });
      await api.register(named(coursesRoutes), { ...ctx, courses });
      if (deps.storage !== undefined) {
        const storageCtx: IStorageContext = {
          ...ctx,
          storage: deps.storage,
          basePath: config.basePath,
          ...(config.storage.linkBaseUrl === undefined
            ? {}
            : { linkBaseUrl: config.storage.linkBaseUrl })
        };
        await api.register(named(storageRoutes), storageCtx);
      }
      if (deps.lineage !== undefined) {
        await api.register(named(lineageRoutes), {
          ...ctx,
          lineage: deps.lineage
        });
      }
      if (deps.triggers !== undefined) {
        await api.register(named(triggersRoutes), {
          ...ctx,
          triggers: deps.triggers
        });
      }
      const endpoints = deps.endpoints;
      if (endpoints !== undefined) {
        const endpointsCtx: IEndpointsContext = {
          ...ctx,
          endpoints: endpoints.service,
          ...(endpoints.keys === undefined
            ? {}
            : {
                metrics: (id: string) =>
                  endpoints.keys?.usage.metrics(id) ?? null
              })
        };
        await api.register(named(endpointsRoutes), endpointsCtx);
        if (endpoints.models !== undefined) {
          await api.register(named(modelsRoutes), {
            ...ctx,
            models: endpoints.models
          });
        }
        if (endpoints.keys !== undefined) {
          await api.register(named(endpointKeysRoutes), {
            ...ctx,
            keys: endpoints.keys.keys,
            usage: endpoints.keys.usage,
            endpointOwner: (id: string) => endpoints.service.ownerOf(id),
            audit: entry => deps.store.audit(entry)
          });
        }
        if (endpoints.keys !== undefined && endpoints.gateway !== undefined) {
          const assistant = new AssistantService({
            store: deps.store,
            endpoints: new AssistantEndpoints({
              store: deps.store,
              endpoints: endpoints.service,
              keys: endpoints.keys.keys,
              courses: courses.keys
            })
          });
          await api.register(named(assistantRoutes), {
            ...ctx,
            assistant,
            gateway: endpoints.gateway
          });
        }
      }
    }, 'bridgeApi'),
    { prefix }
  );
  if (deps.endpoints?.gateway !== undefined) {
    await app.register(named(gatewayRoutes), {
      prefix: gatewayPrefix(config.basePath),
      gateway: deps.endpoints.gateway
    });
  }

  app.addHook('onClose', async () => {
    await deps.close?.();
  });
  return app;
}
