/** Wires the real adapters from a validated config. Nothing here touches the network yet. */
import type { Logger } from 'pino';
import type { IAppDeps } from './app';
import { HealthHistory, HealthSampler } from './admin/health-history';
import { checkBackends } from './admin/health-checks';
import { hubGroups } from './admin/hub-groups';
import { HubApi } from './adapters/hub';
import { S3Endpoint } from './adapters/s3/health';
import { S3Store } from './adapters/s3/storage';
import { SshPool } from './adapters/ssh/client';
import { SshQueue } from './adapters/ssh/jobs';
import { sshTarget, sshUserClusterOf } from './adapters/ssh/targets';
import { sshBatchScripts } from './adapters/ssh/scripts';
import { SshSlurm } from './adapters/ssh/slurm';
import { hubFetchUser } from './auth/hub-auth';
import type { BridgeConfig, ClusterConfig } from './config';
import { ClusterAccess } from './credentials/access';
import { CredentialService } from './credentials/service';
import { EndpointEvents } from './endpoints/events';
import { JobEvents } from './jobs/events';
import { JobPoller } from './jobs/poller';
import { JobService } from './jobs/service';
import { renderKernelScript } from './adapters/ssh/kernel-script';
import { buildKernels } from './kernels/build';
import { JobDataPlanner } from './lineage/job-data';
import { JobDataPlanTable, LineageTable } from './lineage/repository/lineage';
import { LineageService } from './lineage/service';
import { StageOut } from './lineage/stage-out';
import { keyCursorsWith } from './storage/cursor';
import { abortOrphanUploads } from './storage/orphan-uploads';
import { guardedPort, TierPorts } from './storage/ports';
import { UploadTable } from './storage/repository/records';
import { storageHolds } from './storage/repository/reservations';
import { StorageService } from './storage/service';
import { bridgeSingletons } from './background';
import { EventLog } from './replicas/event-log';
import { Leadership, livenessOf } from './replicas/leadership';
import { ClusterPokes } from './replicas/pokes';
import { tokenHolds } from './endpoints/repository/token-holds';
import { openStore } from './store';
import { buildTriggers } from './triggers/build';
import { createEndpoints } from './endpoints/build';

export interface IServeDeps extends IAppDeps {
  /**
   * Before listening: this replica's first heartbeat, the release of what its previous
   * run left, and the abort of S3 uploads a killed bridge left open (bounded, never
   * throws).
   */
  sweepInterruptedUploads: () => Promise<number>;
}

/** The kind of poller the jobs' pokes go to. */
const JOB_POKES = 'jobs';

export function createDeps(config: BridgeConfig, logger: Logger): IServeDeps {
  const store = openStore({
    path: config.store.path,
    url: config.store.url,
    password: config.store.password?.reveal()
  });
  const liveness = livenessOf(config.replicas, store, logger);
  const replica = liveness.replica;
  const pool = new SshPool(logger.child({ component: 'ssh' }));
  const clusters = config.clusters.map(c => ({
    name: c.name,
    title: c.title,
    slurm: new SshSlurm(
      pool.get(
        c.name,
        sshTarget(c, c.ssh.serviceUser, c.ssh.serviceKey.reveal())
      )
    )
  }));
  const secretKey = config.secretKey;
  if (secretKey !== undefined) {
    keyCursorsWith(secretKey.reveal());
  }
  const credentials = new CredentialService(store, () => {
    if (secretKey === undefined) {
      throw new Error('no secretKey configured');
    }
    return secretKey.reveal();
  });
  const access = new ClusterAccess(
    config.clusters,
    credentials,
    (c, user, key) => sshUserClusterOf(pool, c, user, key)
  );
  /** The whole queue, read with the cluster's read-only service account. */
  const serviceQueue = (c: ClusterConfig) =>
    new SshQueue(
      pool.get(
        c.name,
        sshTarget(c, c.ssh.serviceUser, c.ssh.serviceKey.reveal())
      )
    );
  const s3Stores = new Map(config.s3.map(s => [s.name, new S3Store(s)]));
  const storage = new StorageService({
    tiers: config.storage.tiers,
    store,
    replica,
    ports: new TierPorts({
      s3: new Map(
        [...s3Stores].map(([name, store]) => [
          name,
          {
            open: (bucket: string, prefix: string) =>
              store.open(bucket, prefix),
            browserReachable: store.config.publicEndpoint !== undefined
          }
        ])
      ),
      clusters: config.clusters,
      // One session (one decryption of the user's key) for the port; `run` maps a refused
      // key to 412, no connection to 503.
      sftp: (cluster, hubUser, root) => {
        const session = access.session(cluster, hubUser);
        return guardedPort(session.storage(root), fn =>
          access.run(cluster, hubUser, () => fn(), session)
        );
      }
    })
  });
  const plans = new JobDataPlanTable(store);
  const lineage = new LineageTable(store);
  const eventLog = new EventLog(store, {
    onError: e => logger.warn({ err: e }, 'event not delivered')
  });
  const events = new JobEvents(eventLog);
  const pokes = new ClusterPokes(eventLog);
  const endpoints = createEndpoints(
    config,
    logger,
    store,
    access,
    storage,
    serviceQueue,
    replica,
    new EndpointEvents(eventLog)
  );
  const pollers = new Map<string, JobPoller>();
  const service = new JobService({
    config,
    store,
    access,
    scripts: sshBatchScripts,
    events,
    logger: logger.child({ component: 'jobs' }),
    // The leader's pollers tick, whichever replica took the request.
    poke: cluster => pokes.poke(JOB_POKES, cluster),
    refresh: async cluster => {
      if (!(await pokes.refresh(JOB_POKES, cluster))) {
        throw new Error('the leading replica did not poll in time');
      }
    },
    data: new JobDataPlanner(storage, plans),
    endpoints: endpoints.jobKeys
  });
  const stageOut = new StageOut({
    storage,
    access,
    plans,
    lineage,
    jobs: service.table,
    events,
    logger: logger.child({ component: 'stage-out' }),
    audit: store,
    limits: config.stageOut
  });
  for (const c of config.clusters) {
    pollers.set(
      c.name,
      new JobPoller({
        cluster: c.name,
        queue: serviceQueue(c),
        table: service.table,
        access,
        events,
        logger: logger.child({ component: 'poller', cluster: c.name }),
        intervalMs: c.pollSeconds * 1000,
        webhooks: config.webhooks,
        // A job.ended trigger fires once the job's outputs are in their tiers.
        onEnded: async rec => {
          endpoints.jobKeys.revoke(rec.job.id);
          const job = await stageOut.onJobEnded(rec);
          triggers.runner.poke();
          return job;
        }
      })
    );
  }
  pokes.serve(JOB_POKES, pollers);
  const kernels = buildKernels({
    config,
    store,
    access,
    script: renderKernelScript,
    courses: service.courses,
    queueOf: serviceQueue,
    logger: logger.child({ component: 'kernels' }),
    eventLog,
    pokes,
    replica,
    aliveSince: () => liveness.aliveSince()
  });
  const s3 = config.s3.map(s => ({
    name: s.name,
    port: new S3Endpoint(s, probeBucket(config, s.name))
  }));
  const hub = new HubApi(config.hub.apiUrl, config.hub.apiToken.reveal());
  const groups = hubGroups(config.hub.apiUrl, config.hub.apiToken.reveal());
  const triggers = buildTriggers({
    config,
    store,
    jobs: service,
    storage,
    roller: {
      roll: async (owner, endpointId, modelUri) => ({
        endpoint: (
          await endpoints.service.rollModel(owner, endpointId, modelUri)
        ).id
      })
    },
    webhooks: config.webhooks,
    groups,
    endpointOwner: id => endpoints.service.ownerOf(id),
    lastRequestAt: id => endpoints.usage.lastRequestAt(id),
    logger: logger.child({ component: 'triggers' })
  });
  const healthSampler = new HealthSampler({
    history: new HealthHistory(store),
    check: () => checkBackends({ hub, clusters, s3, backendTimeoutMs: 15_000 }),
    onError: e => logger.warn({ err: e }, 'backend health sample failed')
  });
  const leadership = new Leadership({
    config: config.replicas,
    store,
    events: eventLog,
    logger,
    liveness,
    holds: [storageHolds(store), tokenHolds(store)],
    singletons: bridgeSingletons({
      logger,
      healthSampler,
      jobKeys: endpoints.jobKeys,
      storage,
      pollers: [...pollers.values()],
      kernels,
      stageOut,
      controller: endpoints.controller,
      triggers: triggers.runner
    })
  });
  return {
    config,
    logger,
    store,
    fetchUser: hubFetchUser(config.hub.apiUrl),
    hub,
    hubGroups: groups,
    clusters,
    s3,
    jobs: { service, access, events },
    kernels: { service: kernels.service, events: kernels.events },
    storage,
    lineage: new LineageService(lineage, storage, id =>
      endpoints.jobKeys.calls(id)
    ),
    triggers: triggers.service,
    endpoints: {
      service: endpoints.service,
      keys: { keys: endpoints.keys, usage: endpoints.usage },
      gateway: endpoints.gateway,
      ...(endpoints.events === undefined ? {} : { events: endpoints.events }),
      ...(endpoints.models === undefined ? {} : { models: endpoints.models })
    },
    sweepInterruptedUploads: async () => {
      leadership.join();
      // Another live replica's streamed PUTs hold open multipart uploads too: with one
      // alive, this start aborts none (docs/replicas.md).
      if (liveness.live().some(r => r.id !== replica)) {
        return 0;
      }
      const sessions = new UploadTable(store);
      return abortOrphanUploads({
        tiers: config.storage.tiers,
        stores: s3Stores,
        owned: id => sessions.ownsS3Upload(id, new Date().toISOString()),
        logger: logger.child({ component: 'storage' }),
        timeoutMs: 10_000
      });
    },
    replicas: () => leadership.status(),
    startBackground: () => leadership.start(),
    close: async () => {
      await leadership.close();
      await endpoints.controller.stop();
      endpoints.gateway.close();
      endpoints.usage.close();
      pool.closeAll();
      for (const s of s3) {
        s.port.close();
      }
      for (const s of s3Stores.values()) {
        s.close();
      }
      store.close();
    }
  };
}

/**
 * A bucket of the store's tiers for the health probe: preferably one whose tiers all list
 * below a prefix (the probe's key is then in no listing) and that holds no sensitive tier.
 */
function probeBucket(config: BridgeConfig, store: string): string | undefined {
  const tiers = config.storage.tiers.flatMap(t =>
    's3' in t.location && t.location.s3.store === store
      ? [{ class: t.class, ...t.location.s3 }]
      : []
  );
  const score = (bucket: string): number => {
    const of = tiers.filter(t => t.bucket === bucket);
    return (
      (of.some(t => t.prefix === '') ? 2 : 0) +
      (of.some(t => t.class === 'sensitive') ? 1 : 0)
    );
  };
  return [...new Set(tiers.map(t => t.bucket))].sort(
    (a, b) => score(a) - score(b)
  )[0];
}
