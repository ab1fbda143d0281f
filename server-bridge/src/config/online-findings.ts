/** The findings of the online checks, and what the probes share to make them. */

export interface IOnlineFinding {
  status: 'ok' | 'error' | 'warning';
  check: 'hub' | 'groups' | 'ssh' | 'slurm' | 's3' | 'openstack';
  path: string;
  message: string;
}

export interface IOnlineOptions {
  timeoutMs: number;
}

export type Probe = Promise<IOnlineFinding[]>;

export const ok = (
  check: IOnlineFinding['check'],
  path: string,
  message: string
): IOnlineFinding => ({ status: 'ok', check, path, message });

export const failed = (
  check: IOnlineFinding['check'],
  path: string,
  message: string
): IOnlineFinding => ({ status: 'error', check, path, message });

/** `fetch failed` hides the reason in `cause` (ECONNREFUSED, ENOTFOUND, a timeout). */
export function networkReason(e: unknown, timeoutMs: number): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') {
    return `no answer within ${timeoutMs / 1000} s`;
  }
  return err.cause?.code ?? err.cause?.message ?? err.message;
}
