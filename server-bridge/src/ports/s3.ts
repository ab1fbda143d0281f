/** What the bridge needs from an S3 endpoint for its health: what users do with it. */
export interface IS3Port {
  /**
   * Lists the buckets, then writes, reads back and deletes a small object, as an upload
   * and a download would. Rejects when the endpoint does not answer at all; resolves with
   * each step's outcome otherwise (a server that lists but cannot store is degraded).
   */
  check(signal: AbortSignal): Promise<IS3Probe>;
  close(): void;
}

export type S3ProbeStep = 'list' | 'write' | 'read' | 'delete';

export interface IS3Probe {
  checks: Partial<Record<S3ProbeStep, 'ok' | 'down'>>;
  /** The first failure's cause, when a step failed. */
  detail?: string;
}
