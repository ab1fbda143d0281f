/**
 * One bridge replica among several on one database: it writes its heartbeat, tails the
 * shared events, and runs the singletons while it holds the `singletons` lease (among
 * them the release of what dead replicas held). With one replica, that replica leads as
 * soon as it starts.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Store } from '../store';
import type { LiveReplica } from '../contract';
import type { EventLog } from './event-log';
import { LeaderLease } from './lease';
import { Liveness } from './liveness';
import {
  deadHoldsReaper,
  releasePreviousLife,
  type IReplicaHolds
} from './reaper';
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
  /** The replicas with a recent heartbeat, longest running first. */
  live: LiveReplica[];
}

export interface IReplicaConfig {
  id?: string | undefined;
  leaseSeconds: number;
  /** Default 5. */
  heartbeatSeconds?: number;
}

const HEARTBEAT_SECONDS = 5;

/** The replica's name: configured, or host:pid. */
export function replicaId(config: IReplicaConfig): string {
  return config.id ?? `${hostname()}:${process.pid}`;
}

/** The heartbeat of the replica `config` names. */
export function livenessOf(
  config: IReplicaConfig,
  store: Store,
  logger: Logger
): Liveness {
  return new Liveness({
    store,
    replica: replicaId(config),
    intervalMs: heartbeatMs(config),
    onError: e => logger.warn({ err: e }, 'heartbeat not written')
  });
}

const heartbeatMs = (config: IReplicaConfig): number =>
  (config.heartbeatSeconds ?? HEARTBEAT_SECONDS) * 1000;

export class Leadership {
  readonly replica: string;
  private readonly lease: LeaderLease;
  private readonly singletons: Singletons;
  private readonly liveness: Liveness;
  private readonly log: Logger;

  constructor(
    private readonly a: {
      config: IReplicaConfig;
      store: Store;
      events: EventLog;
      singletons: readonly ISingleton[];
      logger: Logger;
      /** Default: the heartbeat of the replica `config` names. */
      liveness?: Liveness;
      /** What a replica holds in the store that the leader releases once it is dead. */
      holds?: readonly IReplicaHolds[];
    }
  ) {
    this.replica = a.liveness?.replica ?? replicaId(a.config);
    const log = a.logger.child({
      component: 'replicas',
      replica: this.replica
    });
    this.log = log;
    this.liveness = a.liveness ?? livenessOf(a.config, a.store, a.logger);
    this.singletons = new Singletons(
      [
        ...a.singletons,
        pruneEvents(a.events, log),
        deadHoldsReaper(
          this.liveness,
          a.holds ?? [],
          heartbeatMs(a.config),
          log
        )
      ],
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

  /**
   * Before this replica takes requests: its first heartbeat (from then on, the leader
   * leaves what it holds alone), and the release of what its previous run under the
   * same id left.
   */
  join(): void {
    this.liveness.start();
    releasePreviousLife(this.replica, this.a.holds ?? [], this.log);
  }

  start(): void {
    this.liveness.start();
    this.a.events.start();
    this.lease.start();
  }

  /** Steps down (another replica takes over at once), stops the tail and the heartbeat. */
  async close(): Promise<void> {
    this.lease.stop();
    await this.singletons.stop();
    this.a.events.stop();
    this.liveness.stop();
  }

  status(now = Date.now()): IReplicaStatus {
    const held = this.lease.current();
    const live = held !== undefined && held.expiresAt > now;
    return {
      replica: this.replica,
      leader: live ? held.holder : null,
      since: live ? held.acquiredAt : null,
      until: live ? new Date(held.expiresAt).toISOString() : null,
      live: this.liveness.live().map(r => ({
        id: r.id,
        startedAt: r.startedAt,
        seenAt: new Date(r.seenAt).toISOString()
      }))
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
