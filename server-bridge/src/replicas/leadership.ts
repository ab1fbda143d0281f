/**
 * One bridge replica among several on one database: it tails the shared events, and runs
 * the singletons while it holds the `singletons` lease. With one replica, that replica
 * leads as soon as it starts.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Store } from '../store';
import type { EventLog } from './event-log';
import { LeaderLease } from './lease';
import { Singletons, type ISingleton } from './singletons';

const LEASE = 'singletons';
/** Events older than this are deleted (a stream away longer reloads its lists). */
const EVENTS_KEPT_MS = 60 * 60 * 1000;
const EVENTS_PRUNE_MS = 5 * 60 * 1000;

export interface IReplicaStatus {
  /** The replica answering. */
  replica: string;
  /** The replica holding the lease now; null when it expired (a new one is elected). */
  leader: string | null;
  /** When the leader took the lease and until when it holds it unless renewed. */
  since: string | null;
  until: string | null;
}

export interface IReplicaConfig {
  id?: string | undefined;
  leaseSeconds: number;
}

export class Leadership {
  readonly replica: string;
  private readonly lease: LeaderLease;
  private readonly singletons: Singletons;

  constructor(
    private readonly a: {
      config: IReplicaConfig;
      store: Store;
      events: EventLog;
      singletons: readonly ISingleton[];
      logger: Logger;
    }
  ) {
    this.replica = a.config.id ?? `${hostname()}:${process.pid}`;
    const log = a.logger.child({
      component: 'replicas',
      replica: this.replica
    });
    this.singletons = new Singletons(
      [...a.singletons, pruneEvents(a.events, log)],
      (name, e) => log.error({ err: e, singleton: name }, 'singleton failed')
    );
    this.lease = new LeaderLease({
      store: a.store,
      name: LEASE,
      holder: this.replica,
      leaseMs: a.config.leaseSeconds * 1000,
      onElected: () => {
        log.info('elected: this replica runs the singletons');
        void this.singletons.start();
      },
      onDemoted: () => {
        log.warn('demoted: this replica stops the singletons');
        void this.singletons.stop();
      },
      onError: e => log.warn({ err: e }, 'lease not renewed')
    });
  }

  start(): void {
    this.a.events.start();
    this.lease.start();
  }

  /** Steps down (another replica takes over at once) and stops the tail. */
  async close(): Promise<void> {
    this.lease.stop();
    await this.singletons.stop();
    this.a.events.stop();
  }

  status(now = Date.now()): IReplicaStatus {
    const held = this.lease.current();
    const live = held !== undefined && held.expiresAt > now;
    return {
      replica: this.replica,
      leader: live ? held.holder : null,
      since: live ? held.acquiredAt : null,
      until: live ? new Date(held.expiresAt).toISOString() : null
    };
  }
}

function pruneEvents(events: EventLog, log: Logger): ISingleton {
  let timer: NodeJS.Timeout | undefined;
  const prune = (): void => {
    try {
      events.prune(EVENTS_KEPT_MS);
    } catch (e) {
      log.warn({ err: e }, 'old events not deleted');
    }
  };
  return {
    name: 'event pruning',
    start: () => {
      prune();
      timer = setInterval(prune, EVENTS_PRUNE_MS);
      timer.unref();
    },
    stop: () => clearInterval(timer)
  };
}
