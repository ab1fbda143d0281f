/**
 * What the domain throws when it refuses or fails a request: a contract error code, the
 * sentence the user reads and optional details. It knows nothing of HTTP: `errors.ts`
 * answers it with the status of its code.
 */
import type { ErrorCode } from './contract';

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** The codes of a failure of the bridge or a backend; every other code refuses the request. */
const FAILURE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'internal',
  'upstream_unavailable'
]);

/** A refusal for the caller's reason (a 4xx), not a failure of the bridge or a backend. */
export function isRefusal(error: unknown): error is DomainError {
  return error instanceof DomainError && !FAILURE_CODES.has(error.code);
}
