/** Wires cluster kernels: the service, one poller per cluster, the event bus. */
import type { Logger } from 'pino';
import type { BridgeConfig, ClusterConfig } from '../config';
import type { CourseJobGate } from '../courses/job-gate';
import type { IClusterAccess } from '../credentials/access';
import type { IQueuePort, KernelScript } from '../ports/slurm';
import type { EventLog } from '../replicas/event-log';
import type { ClusterPokes } from '../replicas/pokes';
import type { Store } from '../store';
import { KernelEvents } from './events';
import { KernelPoller } from './poller';
import { KernelService } from './service';

/** The kind of poller the kernels' pokes go to. */
const POKES = 'kernels';

export function buildKernels(a: {
  config: BridgeConfig;
  store: Store;
  access: IClusterAccess;
  script: KernelScript;
  courses?: CourseJobGate;
  queueOf: (c: ClusterConfig) => IQueuePort;
  logger: Logger;
  /** Where kernel changes go to every replica's streams (absent: in-process). */
  eventLog?: EventLog;
  /** Pokes to the leader's pollers (absent: this process's pollers). */
  pokes?: ClusterPokes;
  /** This replica, and since when (epoch ms) a replica seen is alive. */
  replica?: string;
  aliveSince?: () => number;
}) {
  const events = new KernelEvents(a.eventLog);
  const pollers = new Map<string, KernelPoller>();
  const service = new KernelService({
    config: a.config,
    store: a.store,
    access: a.access,
    script: a.script,
    courses: a.courses,
    events,
    logger: a.logger,
    poke: cluster =>
      a.pokes === undefined
        ? pollers.get(cluster)?.poke()
        : a.pokes.poke(POKES, cluster),
    ...(a.replica === undefined ? {} : { replica: a.replica }),
    ...(a.aliveSince === undefined ? {} : { aliveSince: a.aliveSince })
  });
  for (const c of a.config.clusters) {
    pollers.set(
      c.name,
      new KernelPoller({
        cluster: c.name,
        queue: a.queueOf(c),
        service,
        table: service.table,
        access: a.access,
        events,
        logger: a.logger.child({ cluster: c.name }),
        intervalMs: c.pollSeconds * 1000
      })
    );
  }
  a.pokes?.serve(POKES, pollers);
  return {
    service,
    events,
    start: () => pollers.forEach(p => p.start()),
    stop: () => pollers.forEach(p => p.stop())
  };
}
