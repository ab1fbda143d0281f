/**
 * Usage of endpoint API keys (table `endpoint_usage`, migrations 5 and 11): per key and minute,
 * requests, errors, prompt and completion tokens, the latency sum and a small latency
 * sample (for p50/p95). Counted in memory and written every few seconds (one
 * transaction), so that the gateway never waits on the disk; `flush()` writes now.
 *
 * Admission: a key's `requestsPerMinute` is a fixed window per calendar minute, counted
 * in the store (`gateway_rate_windows`, migration 21) so that it holds across replicas. Its
 * `tokenBudget` is a cap: each admitted request reserves what it may cost (the gateway
 * computes it) with one conditional UPDATE of the key's counters (`tokens_used`,
 * `tokens_reserved`, migration 9), which fails when used + reserved + the reservation
 * would pass the budget; the request's real cost replaces its reservation when it is
 * settled. Both happen in one transaction per request, so concurrent requests, on one
 * replica or several, never pass the rate or hold more than the budget.
 *
 * Usage is accounting: rows keep the key's owner and the endpoint's owner and name, and
 * stay when the endpoint and its keys are deleted.
 */
import type { EndpointMetrics } from '../contract';
import { LOCAL_REPLICA } from '../replicas/liveness';
import type { Store } from '../store';
import type { IResolvedKey } from './keys';
import { EndpointKeyTable, type IKeyTokens } from './repository/keys';
import { RateWindowTable } from './repository/rate-windows';
import { TokenHolds } from './repository/token-holds';
import { UsageTable, type JobUsageRow } from './repository/usage';
import {
  addToSample,
  type IBucket,
  merge,
  quantile,
  round
} from './usage-buckets';

const FLUSH_EVERY_MS = 5_000;

export interface IUsageEvent {
  keyId: string;
  endpointId: string;
  promptTokens: number;
  completionTokens: number;
  /** From the request's arrival to the response's last byte. */
  latencyMs: number;
  /** The request failed (upstream error, 5xx, 4xx from the model server, aborted). */
  error: boolean;
}

/** Tokens held for one admitted request until it is settled (`record`). */
export interface IReservation {
  keyId: string;
  tokens: number;
}

export type Admission =
  | { ok: true; reservation: IReservation }
  | { ok: false; reason: 'rate'; retryAfterSeconds: number; limit: number }
  | {
      ok: false;
      reason: 'budget';
      used: number;
      /** Held by the key's requests in flight. */
      reserved: number;
      budget: number;
      /** The reservation that did not fit. */
      asked: number;
    };

export interface IKeyUsage {
  requests: number;
  tokensUsed: number;
  /** Held by the key's requests in flight (not yet settled). */
  tokensReserved: number;
}

export interface IUsageOptions {
  now?: () => number;
  random?: () => number;
  /** A timed write that failed (its counts are lost); default: ignored. */
  onError?: (error: unknown) => void;
  /** The replica whose requests hold the reservations (default: local). */
  replica?: string;
}

export class EndpointUsage {
  /** Counted and not yet written, by `keyId|minute`. */
  private pending = new Map<string, IBucket>();
  private timer: NodeJS.Timeout | undefined;

  private readonly now: () => number;
  private readonly random: () => number;
  private readonly onError: (error: unknown) => void;
  private readonly keys: EndpointKeyTable;
  private readonly usage: UsageTable;
  private readonly windows: RateWindowTable;
  private readonly holds: TokenHolds;

  constructor(
    private readonly store: Store,
    options: IUsageOptions = {}
  ) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.onError = options.onError ?? (() => undefined);
    this.keys = new EndpointKeyTable(store);
    this.usage = new UsageTable(store);
    this.windows = new RateWindowTable(store);
    const replica = options.replica ?? LOCAL_REPLICA;
    this.holds = new TokenHolds(store, replica);
    // Requests this replica had in flight when it stopped without finishing them (a
    // crash) are charged what they reserved; other replicas' are charged by the leader
    // once their replica is dead (docs/replicas.md).
    this.holds.chargeOf(replica);
  }

  private minuteOf(ms: number): number {
    return Math.floor(ms / 60_000);
  }

  /** A key's token counters; null for an unknown key. */
  keyTokens(keyId: string): IKeyTokens | null {
    return this.keys.tokens(keyId);
  }

  /** Lifetime tokens charged to a key (settled requests). */
  tokensUsed(keyId: string): number {
    return this.keyTokens(keyId)?.used ?? 0;
  }

  /**
   * Whether a request with this key may go now, reserving `tokens` of the key's
   * budget; when it may, it counts towards the key's rate window. A spent key is
   * refused first, then the rate, then a reservation that does not fit. The budget is
   * the key's as stored now (a course may have changed it since the key was resolved).
   */
  admit(key: IResolvedKey, tokens: number): Admission {
    return this.store.exclusive(() => this.admitNow(key, tokens));
  }

  private admitNow(key: IResolvedKey, tokens: number): Admission {
    const { requestsPerMinute } = key.limits;
    const before = this.keyTokens(key.keyId);
    const refused = (t: IKeyTokens | null): Admission => ({
      ok: false,
      reason: 'budget',
      used: t?.used ?? 0,
      reserved: t?.reserved ?? 0,
      budget: t?.budget ?? 0,
      asked: tokens
    });
    if (before === null) {
      return refused(null);
    }
    if (before.budget !== null && before.used >= before.budget) {
      return refused(before);
    }
    const now = this.now();
    const minute = this.minuteOf(now);
    const counted =
      requestsPerMinute !== null &&
      this.windows.take(key.keyId, minute, requestsPerMinute);
    if (requestsPerMinute !== null && !counted) {
      return {
        ok: false,
        reason: 'rate',
        limit: requestsPerMinute,
        retryAfterSeconds: Math.max(
          1,
          Math.ceil(((minute + 1) * 60_000 - now) / 1000)
        )
      };
    }
    const amount = Math.max(0, Math.ceil(tokens));
    if (!this.holds.reserve(key.keyId, amount)) {
      if (counted) {
        this.windows.giveBack(key.keyId, minute);
      }
      return refused(this.keyTokens(key.keyId));
    }
    return { ok: true, reservation: { keyId: key.keyId, tokens: amount } };
  }

  /**
   * Counts one finished request and charges its tokens to the key; `reservation`:
   * what it held since `admit`, released now (settle each reservation once). The names
   * are read when a key's minute starts, so a request that ends just before its
   * endpoint is deleted is still written.
   */
  record(event: IUsageEvent, reservation?: IReservation): void {
    const minute = this.minuteOf(this.now());
    const id = `${event.keyId}|${minute}`;
    let b = this.pending.get(id);
    if (b === undefined) {
      const labels = this.keys.labels(event.keyId);
      if (labels === null) {
        return; // the key went with its endpoint before the request ended
      }
      b = {
        ...labels,
        keyId: event.keyId,
        endpointId: event.endpointId,
        minute,
        requests: 0,
        errors: 0,
        promptTokens: 0,
        completionTokens: 0,
        latencySum: 0,
        seen: 0,
        sample: []
      };
      this.pending.set(id, b);
    }
    const prompt = Math.max(0, Math.round(event.promptTokens));
    const completion = Math.max(0, Math.round(event.completionTokens));
    const latency = Math.max(0, event.latencyMs);
    b.requests += 1;
    b.errors += event.error ? 1 : 0;
    b.promptTokens += prompt;
    b.completionTokens += completion;
    b.latencySum += latency;
    addToSample(b, latency, this.random);
    this.holds.settle(
      event.keyId,
      prompt + completion,
      reservation?.tokens ?? 0
    );
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined) {
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.flush();
      } catch (e) {
        this.onError(e);
      }
    }, FLUSH_EVERY_MS);
    this.timer.unref();
  }

  /** Writes what was counted (one transaction). */
  flush(): void {
    if (this.pending.size === 0) {
      return;
    }
    this.windows.dropBefore(this.minuteOf(this.now()) - 1);
    const buckets = [...this.pending.values()];
    this.pending = new Map();
    this.usage.add(buckets, (stored, added) =>
      merge(stored, added, this.random)
    );
  }

  /**
   * The end of the last minute the endpoint served a request in (usage is counted by
   * the minute); null if it never served one.
   */
  lastRequestAt(endpointId: string): Date | null {
    this.flush();
    const minute = this.usage.lastMinute(endpointId);
    return minute === null ? null : new Date((minute + 1) * 60_000);
  }

  /** Requests, lifetime tokens and tokens in flight per key of an endpoint. */
  keyUsage(endpointId: string): Map<string, IKeyUsage> {
    this.flush();
    const rows = this.usage.keyUsage(endpointId);
    return new Map(
      rows.map(r => [
        r.keyId,
        {
          requests: r.requests,
          tokensUsed: r.tokens,
          tokensReserved: r.reserved
        }
      ])
    );
  }

  /** Per endpoint, what the keys made for job `jobId` were used for (written first). */
  ofJob(jobId: string): JobUsageRow[] {
    this.flush();
    return this.usage.ofJob(jobId);
  }

  /**
   * The endpoint's traffic over the last `minutes` minutes (the current one included),
   * one point per minute, oldest first, every key together; p50/p95 from the sampled
   * latencies.
   */
  metrics(endpointId: string, minutes = 15): EndpointMetrics {
    this.flush();
    const last = this.minuteOf(this.now());
    const first = last - minutes + 1;
    const rows = this.usage.ofEndpoint(endpointId, first, last);
    const totals = {
      requests: 0,
      errors: 0,
      promptTokens: 0,
      completionTokens: 0
    };
    const points: EndpointMetrics['points'] = [];
    for (let minute = first; minute <= last; minute++) {
      const inMinute = rows.filter(r => r.minute === minute);
      const latencies = inMinute.flatMap(r => r.sample);
      const point = {
        at: new Date(minute * 60_000).toISOString(),
        requests: 0,
        errors: 0,
        p50Ms: round(quantile(latencies, 0.5)),
        p95Ms: round(quantile(latencies, 0.95)),
        promptTokens: 0,
        completionTokens: 0
      };
      for (const r of inMinute) {
        point.requests += r.requests;
        point.errors += r.errors;
        point.promptTokens += r.promptTokens;
        point.completionTokens += r.completionTokens;
      }
      totals.requests += point.requests;
      totals.errors += point.errors;
      totals.promptTokens += point.promptTokens;
      totals.completionTokens += point.completionTokens;
      points.push(point);
    }
    return { points, totals };
  }

  /** Writes what is pending and stops the timer. */
  close(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.flush();
  }
}
