/**
 * The gateway's router on a bridge that does not run the control loop (a follower, when
 * several bridges share the store): its routes are the ready replicas the leader's loop
 * recorded, read again when older than a second and at once when there is none. A request
 * for a scaled-to-zero endpoint records the wake (the leader's loop starts a replica) and
 * is held until a ready replica appears in the store. Requests are noted in the store at
 * most once a second per endpoint, so that the leader's idle timer sees them.
 */
import { DomainError } from '../domain-error';
import { type EndpointControl, iso, type IWaiter } from './control';
import { probeWhileHeld } from './held-probe';
import type { IUpstream } from './ports';
import type { IEndpointRecord } from './repository/endpoints';
import { hold, rejectAll, settleWaiters } from './waiters';

/** How long an endpoint's stored routes serve before they are read again. */
const ROUTES_FRESH_MS = 1000;
/** An endpoint's last request is written at most this often. */
const NOTE_REQUEST_MS = 1000;

interface IStoredEndpoint {
  record: IEndpointRecord | undefined;
  routes: IUpstream[];
  loadedAt: number;
  /**
   * Replicas a request failed on, until when they get none: the leader's health checks
   * decide whether they are replaced (this bridge does not check them).
   */
  suspect: Map<string, number>;
  notedAt: number | null;
  waiters: Set<IWaiter>;
  probing: boolean;
}

export class StoredRouter {
  private readonly endpoints = new Map<string, IStoredEndpoint>();

  constructor(
    private readonly ctl: EndpointControl,
    /** Records the wake of a scaled-to-zero endpoint in the store. */
    private readonly wake: (id: string) => Promise<void>
  ) {}

  private get now(): number {
    return this.ctl.clock.now();
  }

  private entry(id: string): IStoredEndpoint {
    let e = this.endpoints.get(id);
    if (e === undefined) {
      e = {
        record: undefined,
        routes: [],
        loadedAt: -Infinity,
        suspect: new Map(),
        notedAt: null,
        waiters: new Set(),
        probing: false
      };
      this.endpoints.set(id, e);
    }
    return e;
  }

  /** The endpoint as last read; read again when older than `ROUTES_FRESH_MS`. */
  private fresh(id: string): IStoredEndpoint {
    const e = this.entry(id);
    if (this.now - e.loadedAt >= ROUTES_FRESH_MS) {
      this.load(id, e);
    }
    return e;
  }

  private load(id: string, e: IStoredEndpoint): void {
    const now = this.now;
    for (const [replicaId, until] of e.suspect) {
      if (now >= until) {
        e.suspect.delete(replicaId);
      }
    }
    e.record = this.ctl.table.get(id);
    e.routes =
      e.record === undefined
        ? []
        : this.ctl.routesOf(e.record, this.ctl.activeOf(id), e.suspect);
    e.loadedAt = now;
  }

  async upstream(id: string, signal: AbortSignal): Promise<IUpstream> {
    const e = this.fresh(id);
    if (e.routes.length === 0 && !refused(e.record)) {
      // A miss reads again at once (a stopped or failed endpoint waits for the second).
      this.load(id, e);
    }
    const ep = e.record;
    if (ep === undefined) {
      throw new DomainError('not_found', `No endpoint ${id}`);
    }
    this.touched(id);
    this.ctl.refuseUnavailable(ep);
    const route = e.routes[0];
    if (route !== undefined) {
      return route;
    }
    if (signal.aborted) {
      throw new DomainError('upstream_unavailable', 'The request was aborted');
    }
    if (ep.state === 'scaled-to-zero') {
      await this.wake(id);
    }
    const held = hold(
      e.waiters,
      signal,
      this.now + this.ctl.serving.holdSeconds * 1000
    );
    this.probe(id, e);
    return held;
  }

  /** Reads the store for the held requests until none waits (see `held-probe.ts`). */
  private probe(id: string, e: IStoredEndpoint): void {
    probeWhileHeld(
      e,
      async () => {
        this.load(id, e);
        if (e.record === undefined) {
          rejectAll(e.waiters, `No endpoint ${id}`);
        } else {
          settleWaiters(this.ctl, e.waiters, e.record, e.routes[0], this.now);
        }
      },
      () => false
    );
  }

  touched(id: string): void {
    const e = this.entry(id);
    const now = this.now;
    if (e.notedAt === null || now - e.notedAt >= NOTE_REQUEST_MS) {
      e.notedAt = now;
      this.ctl.table.noteRequest(id, iso(now));
    }
  }

  /** No request goes to the replica for a health interval (the leader checks it). */
  upstreamFailed(id: string, replicaId: string): void {
    const e = this.entry(id);
    e.suspect.set(replicaId, this.now + this.ctl.serving.healthSeconds * 1000);
    e.routes = e.routes.filter(r => r.replicaId !== replicaId);
  }

  record(id: string): IEndpointRecord | undefined {
    return this.fresh(id).record;
  }

  /** Requests the loop held when this bridge stopped leading: they wait for the store. */
  adopt(id: string, waiters: Iterable<IWaiter>): void {
    const e = this.entry(id);
    for (const w of waiters) {
      e.waiters.add(w);
    }
    if (e.waiters.size > 0) {
      this.probe(id, e);
    }
  }

  /** Read again on the next request (after an owner's change on this bridge). */
  forget(id: string): void {
    const e = this.endpoints.get(id);
    if (e !== undefined) {
      e.loadedAt = -Infinity;
    }
  }

  /** Answers every held request with a 503 (the bridge closes). */
  rejectAll(message: string): void {
    for (const e of this.endpoints.values()) {
      rejectAll(e.waiters, message);
    }
  }
}

function refused(ep: IEndpointRecord | undefined): boolean {
  return (
    ep !== undefined && (ep.desired === 'stopped' || ep.state === 'failed')
  );
}
