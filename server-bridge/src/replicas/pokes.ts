/**
 * Pokes across replicas: a submit, an action or a kernel start asks the cluster's poller
 * for an early tick, whichever replica took the request. The poke goes through the
 * event log (topic `poke`), so every replica sees it; only started pollers (the
 * leader's) act on it, and a follower's pollers, never started, never tick.
 *
 * A refresh (an action answers the job as the next tick leaves it) asks the leader to
 * tick at once and waits, bounded, for its `polled` answer; the caller then reads what
 * that tick stored. No replica other than the leader polls, so no job's end is handled
 * twice.
 */
import { z } from 'zod';
import type { EventLog } from './event-log';

const POKE = 'poke';
const POLLED = 'polled';
/** Pokes are no user's: no event stream sends these topics. */
const SUBJECT = '';
/** How long a refresh waits for the leader's tick by default. */
const REFRESH_WAIT_MS = 15_000;

/** What a poller offers to pokes (JobPoller, KernelPoller). */
export interface IPokeable {
  /** Whether it polls here (on the leader). */
  readonly started: boolean;
  poke: () => void;
  /** A tick now, after the one in progress; resolves once stored. */
  refresh?: () => Promise<void>;
}

const PokeSchema = z.object({
  kind: z.string(),
  cluster: z.string(),
  wait: z.boolean()
});
const PolledSchema = z.object({
  kind: z.string(),
  cluster: z.string(),
  poke: z.number().int()
});

export class ClusterPokes {
  constructor(
    private readonly log: EventLog,
    private readonly refreshWaitMs = REFRESH_WAIT_MS
  ) {}

  /** This replica's pollers of `kind` act on pokes while started; returns the unsubscribe. */
  serve(kind: string, pollers: ReadonlyMap<string, IPokeable>): () => void {
    return this.log.subscribe(POKE, row => {
      const poke = PokeSchema.safeParse(row.payload);
      if (!poke.success || poke.data.kind !== kind) {
        return;
      }
      const poller = pollers.get(poke.data.cluster);
      if (poller === undefined || !poller.started) {
        return;
      }
      if (!poke.data.wait || poller.refresh === undefined) {
        poller.poke();
        return;
      }
      const answer = (): void => {
        this.log.publish(POLLED, SUBJECT, {
          kind,
          cluster: poke.data.cluster,
          poke: row.id
        });
      };
      // The refresh logs its own failures; the waiter gets its answer either way.
      poller.refresh().then(answer, answer);
    });
  }

  /** An early tick of `cluster`'s poller of `kind`, on the leader. */
  poke(kind: string, cluster: string): void {
    this.log.publish(POKE, SUBJECT, { kind, cluster, wait: false });
  }

  /**
   * Asks the leader for a tick of `cluster`'s poller now; resolves true once that tick
   * was stored, false when no answer came within the wait (no leader, or a slow one).
   */
  refresh(kind: string, cluster: string): Promise<boolean> {
    return new Promise(resolve => {
      let asked = Number.POSITIVE_INFINITY;
      const done = (answered: boolean): void => {
        clearTimeout(timer);
        unsubscribe();
        resolve(answered);
      };
      const unsubscribe = this.log.subscribe(POLLED, row => {
        const polled = PolledSchema.safeParse(row.payload);
        if (
          polled.success &&
          polled.data.kind === kind &&
          polled.data.cluster === cluster &&
          polled.data.poke >= asked
        ) {
          done(true);
        }
      });
      const timer = setTimeout(() => done(false), this.refreshWaitMs);
      timer.unref();
      // A refresh answers after a promise settles, never within this publish.
      asked = this.log.publish(POKE, SUBJECT, { kind, cluster, wait: true });
    });
  }
}
