/**
 * Errors of the OpenStack APIs as sentences users understand. A `CloudError` never
 * carries a token, password, application-credential secret or user-data: messages are
 * built from the HTTP status and the API's own error text, with known secrets removed.
 */

export type CloudErrorKind =
  /** Keystone refused the bridge's credentials (or a token stopped working). */
  | 'auth'
  /** The project's quota is used up (Nova 403 "Quota exceeded"). */
  | 'quota'
  /** No host with a free GPU of this kind ("No valid host was found"). */
  | 'capacity'
  /** The cloud rejected the request: unknown image, flavor, network (400). */
  | 'bad_request'
  | 'not_found'
  /** No answer from the cloud (connection refused, DNS, timeout). */
  | 'unreachable'
  | 'other';

export class CloudError extends Error {
  constructor(
    readonly kind: CloudErrorKind,
    message: string,
    readonly status: number | null = null
  ) {
    super(message);
    this.name = 'CloudError';
  }

  /** Quota or capacity: another provider (the endpoint's fallback) may place the replica. */
  get noCapacity(): boolean {
    return this.kind === 'quota' || this.kind === 'capacity';
  }
}

/** Nova's fault message when the scheduler found no host for the flavor. */
export const NO_VALID_HOST = /no valid host/i;

export function capacitySentence(cloud: string, detail: string): string {
  return `The cloud has no free GPU of this kind right now (${cloud}: ${detail})`;
}

/**
 * The API's own message from an OpenStack error body: Nova `{"forbidden": {"message"}}`,
 * Keystone `{"error": {"message"}}`, Neutron `{"NeutronError": {"message"}}`, Glance text.
 */
export function apiMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (parsed !== null && typeof parsed === 'object') {
      for (const v of Object.values(parsed as Record<string, unknown>)) {
        if (v !== null && typeof v === 'object') {
          const m = (v as { message?: unknown }).message;
          if (typeof m === 'string') {
            return m;
          }
        }
      }
    }
  } catch {
    // not JSON: fall through to the text
  }
  return body
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** `text` without any of `secrets`, at most 300 characters. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length >= 4) {
      out = out.split(s).join('[redacted]');
    }
  }
  return out.length > 300 ? `${out.slice(0, 297)}…` : out;
}

/** An HTTP error answer of an OpenStack API as a CloudError with a sentence. */
export function cloudErrorOf(
  cloud: string,
  what: string,
  status: number,
  message: string
): CloudError {
  const detail = message === '' ? `HTTP ${status}` : message;
  if (status === 401) {
    return new CloudError(
      'auth',
      `The bridge cannot log in to the cloud ${cloud} (${detail}): ask your admin to check its credentials`,
      status
    );
  }
  if (status === 403 && /quota/i.test(message)) {
    return new CloudError(
      'quota',
      `The cloud project's quota is used up: ${detail}`,
      status
    );
  }
  if (status === 403) {
    return new CloudError(
      'auth',
      `The bridge may not ${what} on the cloud ${cloud} (${detail}): ask your admin`,
      status
    );
  }
  if (NO_VALID_HOST.test(message)) {
    return new CloudError('capacity', capacitySentence(cloud, detail), status);
  }
  if (status === 400) {
    return new CloudError(
      'bad_request',
      `The cloud ${cloud} refused to ${what}: ${detail} (check the image, flavor and network in the bridge's configuration)`,
      status
    );
  }
  if (status === 404) {
    return new CloudError('not_found', `${what}: ${detail}`, status);
  }
  return new CloudError(
    'other',
    `The cloud ${cloud} could not ${what}: HTTP ${status} ${detail}`,
    status
  );
}

export function unreachable(
  cloud: string,
  url: string,
  e: unknown
): CloudError {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const why =
    (e as Error).name === 'TimeoutError'
      ? 'no answer in time'
      : (cause?.code ?? cause?.message ?? (e as Error).message);
  return new CloudError(
    'unreachable',
    `The cloud ${cloud} is not reachable (${new URL(url).origin}: ${why})`
  );
}
