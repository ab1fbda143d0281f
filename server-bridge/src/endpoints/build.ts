/** The serving control plane's wiring: providers, placers, the controller, the gateway. */
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { keystoneFor } from '../adapters/openstack/keystone';
import { Nova } from '../adapters/openstack/nova';
import { OpenStackProvider } from '../adapters/openstack/provider';
import { SshQueue } from '../adapters/ssh/jobs';
import { sshBatchScripts } from '../adapters/ssh/scripts';
import type { BridgeConfig, ClusterConfig } from '../config';
import { ClusterAccess } from '../credentials/access';
import { EndpointController } from './controller';
import { EndpointEvents } from './events';
import { Gateway } from './gateway';
import { gatewayUrl } from './catalog';
import { JobKeys } from './job-keys';
import { EndpointKeys } from './keys';
import { LocalProvider } from './local-provider';
import { lookupAccount } from './local-processes';
import { LocalModelPlacer, SlurmModelPlacer } from './model-placers';
import type { IModelPlacer, IServingProvider } from './ports';
import { UserModelTable } from './repository/user-models';
import { UserModels } from './user-models';
import { EndpointService } from './service';
import { SlurmProvider } from './slurm-provider';
import { EndpointTable } from './repository/endpoints';
import { EndpointUsage } from './usage';
import { StorageService } from '../storage/service';
import { type Store } from '../store';

/** Where the local provider keeps replica logs and files: next to the store. */
export function localServingDir(config: BridgeConfig): string {
  const path = config.store.path;
  return path === undefined || path === ':memory:'
    ? join(tmpdir(), `hpc-bridge-serving-${process.pid}`)
    : join(dirname(path), 'serving-local');
}

/** Where the local provider keeps its copies of users' model files. */
export function localModelDir(config: BridgeConfig): string {
  const configured = config.serving.providers.local?.modelDir;
  if (configured !== undefined) {
    return configured;
  }
  const path = config.store.path;
  return path === undefined || path === ':memory:'
    ? join(tmpdir(), `hpc-bridge-models-${process.pid}`)
    : join(dirname(path), 'serving-models');
}

/** The serving control plane (providers, controller) and H8's gateway, keys, usage. */
export function createEndpoints(
  config: BridgeConfig,
  logger: Logger,
  store: Store,
  access: ClusterAccess,
  storage: StorageService,
  queueOf: (c: ClusterConfig) => SshQueue,
  replica?: string,
  events?: EndpointEvents
) {
  const providers = new Map<string, IServingProvider>();
  const placers = new Map<string, IModelPlacer>();
  const userModels = config.serving.userModels;
  const local = config.serving.providers.local;
  if (local !== undefined) {
    const runAs =
      local.runAs === undefined ? undefined : lookupAccount(local.runAs);
    if (userModels !== undefined) {
      placers.set(
        'local',
        new LocalModelPlacer({
          storage,
          dir: localModelDir(config),
          maxBytes: userModels.maxBytes,
          ...(runAs === undefined || process.getuid?.() !== 0
            ? {}
            : { account: runAs })
        })
      );
    }
    providers.set(
      'local',
      new LocalProvider({
        dir: localServingDir(config),
        maxReplicas: local.maxReplicas,
        maxReplicasPerUser: local.maxReplicasPerUser,
        ...(runAs === undefined ? {} : { runAs }),
        limits: {
          memoryHeadroomMB: local.memoryHeadroomMB,
          nice: local.nice
        },
        ...(local.buildStatus === undefined
          ? {}
          : { buildStatus: local.buildStatus })
      })
    );
  }
  const slurm = config.serving.providers.slurm;
  const cluster = config.clusters.find(c => c.name === slurm?.cluster);
  if (slurm !== undefined && cluster !== undefined) {
    providers.set(
      'slurm',
      new SlurmProvider({
        cluster,
        partition: slurm.partition,
        root: slurm.root,
        access,
        scripts: sshBatchScripts,
        queue: queueOf(cluster)
      })
    );
    if (userModels !== undefined) {
      placers.set(
        'slurm',
        new SlurmModelPlacer({
          storage,
          access,
          cluster: cluster.name,
          root: slurm.root
        })
      );
    }
  }
  const openstack = config.serving.providers.openstack;
  if (openstack !== undefined) {
    const keystone = keystoneFor(openstack);
    providers.set(
      'openstack',
      new OpenStackProvider({ config: openstack, nova: new Nova(keystone) })
    );
  }
  const table = new EndpointTable(store);
  const controller = new EndpointController({
    config,
    table,
    providers,
    placers,
    logger: logger.child({ component: 'endpoints' }),
    // The owner's view of it, as the routes answer it (`service` is made below).
    changed: (ep, deleted) => events?.emit(service.toEndpoint(ep), deleted)
  });
  const models =
    userModels === undefined
      ? undefined
      : new UserModels({
          config,
          table: new UserModelTable(store),
          storage,
          store
        });
  const service = new EndpointService({
    config,
    table,
    controller,
    store,
    ...(models === undefined ? {} : { models })
  });
  const gatewayLog = logger.child({ component: 'gateway' });
  const keys = new EndpointKeys(store);
  const usage = new EndpointUsage(store, {
    onError: e => gatewayLog.warn({ err: e }, 'usage not recorded'),
    ...(replica === undefined ? {} : { replica })
  });
  const gateway = new Gateway({
    keys,
    usage,
    router: controller,
    // a user's model (not in the catalog) gets the limits of user models
    tokenLimits: model =>
      config.models.find(m => m.name === model) ?? userModels,
    warn: (details, message) => gatewayLog.warn(details, message)
  });
  const jobKeys = new JobKeys({
    table,
    keys,
    usage,
    gatewayUrl: gatewayUrl(config)
  });
  return {
    providers,
    table,
    controller,
    service,
    keys,
    usage,
    gateway,
    models,
    jobKeys,
    events
  };
}
