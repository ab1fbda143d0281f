/**
 * Requests held until an endpoint has a ready replica: by the loop's router (the leader)
 * and by the store's (`stored-routes.ts`, a bridge that does not run the loop).
 */
import { DomainError } from '../domain-error';
import type { EndpointControl, IWaiter } from './control';
import type { IUpstream } from './ports';
import type { IEndpointRecord } from './repository/endpoints';

/** Holds a request in `waiters` until it is settled, `deadline` at the latest, or aborted. */
export function hold(
  waiters: Set<IWaiter>,
  signal: AbortSignal,
  deadline: number
): Promise<IUpstream> {
  return new Promise<IUpstream>((resolve, reject) => {
    const onAbort = () => {
      waiters.delete(waiter);
      reject(
        new DomainError('upstream_unavailable', 'The request was aborted')
      );
    };
    const waiter: IWaiter = {
      deadline,
      resolve: u => {
        signal.removeEventListener('abort', onAbort);
        resolve(u);
      },
      reject: e => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    waiters.add(waiter);
  });
}

/**
 * Answers the held requests: with `route` when there is one, with a 503 when the
 * endpoint cannot serve (stopped, failed) or a request waited past its deadline.
 */
export function settleWaiters(
  ctl: EndpointControl,
  waiters: Set<IWaiter>,
  ep: IEndpointRecord,
  route: IUpstream | undefined,
  now: number
): void {
  for (const w of [...waiters]) {
    if (route !== undefined) {
      waiters.delete(w);
      w.resolve(route);
      continue;
    }
    let error: DomainError | null = null;
    try {
      ctl.refuseUnavailable(ep);
    } catch (e) {
      error = e as DomainError;
    }
    if (error === null && now >= w.deadline) {
      error = new DomainError(
        'upstream_unavailable',
        `Endpoint ${ep.name} did not become ready within ${ctl.serving.holdSeconds} s (state ${ep.state}${ep.reason === null ? '' : `: ${ep.reason}`})`
      );
    }
    if (error !== null) {
      waiters.delete(w);
      w.reject(error);
    }
  }
}

/** Answers every held request with a 503 saying `message`. */
export function rejectAll(waiters: Set<IWaiter>, message: string): void {
  for (const w of waiters) {
    w.reject(new DomainError('upstream_unavailable', message));
  }
  waiters.clear();
}
