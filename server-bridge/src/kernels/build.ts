/** Wires cluster kernels: the service, one poller per cluster, the event bus. */
import type { Logger } from 'pino';
import type { BridgeConfig, ClusterConfig } from '../config';
import type { CourseJobGate } from '../courses/job-gate';
import type { IClusterAccess } from '../credentials/access';
import type { IQueuePort, KernelScript } from '../ports/slurm';
import type { EventLog } from '../replicas/event-log';
import type { Store } from '../store';
import { KernelEvents } from './events';
import { KernelPoller } from './poller';
import { KernelService } from './service';

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
    poke: cluster => pollers.get(cluster)?.poke()
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
  return {
    service,
    events,
    start: () => pollers.forEach(p => p.start()),
    stop: () => pollers.forEach(p => p.stop())
  };
}
