/** Readiness seen sooner than the control loop's tick while requests wait for it. */
import type { IRuntime } from './control';

const FIRST_PROBE_MS = 50;
const MAX_PROBE_MS = 250;

/**
 * Steps an endpoint that holds requests more often than the loop's tick: after 50, 100,
 * 200 ms, then every 250 ms until no request waits, so that a replica's readiness reaches
 * the held requests within a fraction of a second. One chain per endpoint at a time.
 */
export function probeWhileHeld(
  rt: Pick<IRuntime, 'probing' | 'waiters'>,
  step: () => Promise<void>,
  closed: () => boolean
): void {
  if (rt.probing) {
    return;
  }
  rt.probing = true;
  let delay = FIRST_PROBE_MS;
  const next = (): void => {
    if (closed() || rt.waiters.size === 0) {
      rt.probing = false;
      return;
    }
    setTimeout(() => {
      void step().finally(next);
    }, delay).unref();
    delay = Math.min(delay * 2, MAX_PROBE_MS);
  };
  next();
}
