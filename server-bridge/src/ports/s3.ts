/** What the bridge needs from an S3 endpoint (for now: a health check). */
export interface IS3Port {
  /** Resolves when the endpoint answers an authenticated request with our credentials. */
  check(signal: AbortSignal): Promise<void>;
  close(): void;
}
