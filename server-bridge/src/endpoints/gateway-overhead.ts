/**
 * What the gateway itself costs a request, shown on every answer as
 * `x-hpcb-overhead-ms` and in `Server-Timing` (`hpcb;dur=…`): the time since the
 * request arrived, less the time spent waiting for the endpoint (a ready replica, woken
 * if it slept, and the replica's answer until its headers; a whole answer until its last
 * byte). An answer the gateway gives without a replica counts whole.
 */
import { performance } from 'node:perf_hooks';

export const OVERHEAD_HEADER = 'x-hpcb-overhead-ms';

export class GatewayOverhead {
  private waitedMs = 0;

  /** `elapsedMs`: the time since the request arrived, in ms (Fastify's `reply.elapsedTime`). */
  constructor(private readonly elapsedMs: () => number) {}

  /** Awaits `pending`, a wait for the endpoint, which then does not count as overhead. */
  async waitFor<T>(pending: Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await pending;
    } finally {
      this.waitedMs += performance.now() - start;
    }
  }

  /** The overhead so far, in ms. */
  ms(): number {
    return Math.max(0, this.elapsedMs() - this.waitedMs);
  }

  /** The answer's headers that show the overhead so far. */
  headers(): Record<string, string> {
    const ms = this.ms().toFixed(3);
    return { [OVERHEAD_HEADER]: ms, 'server-timing': `hpcb;dur=${ms}` };
  }
}
