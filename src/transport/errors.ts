import {
  type ErrorBody,
  ErrorBodySchema,
  type ErrorCode,
  type SshCredential,
  SshCredentialSchema
} from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import { z } from 'zod';

/**
 * An error of a request to the bridge. Its message is a sentence for the user.
 */
export class BridgeRequestError extends Error {
  constructor(options: BridgeRequestError.IOptions) {
    super(options.message);
    this.name = 'BridgeRequestError';
    this.reason = options.reason;
    this.url = options.url;
    this.status = options.status ?? 0;
    this.body = options.body ?? null;
    this.gatewayCode = options.gatewayCode ?? null;
  }

  /**
   * The OpenAI error code of a model call's error answer (`insufficient_quota`,
   * `invalid_api_key`, …), which the bridge passes on in the gateway's shape.
   */
  readonly gatewayCode: string | null;

  /** Why the request failed. */
  readonly reason: BridgeRequestError.Reason;

  /** The URL requested, or `null` when the bridge URL is unknown. */
  readonly url: string | null;

  /** The HTTP status, or 0 when there was no HTTP answer. */
  readonly status: number;

  /** The bridge's error body, when the bridge itself answered with an error. */
  readonly body: ErrorBody | null;

  /** The bridge's error code, when the bridge itself answered with an error. */
  get code(): ErrorCode | null {
    return this.body?.error.code ?? null;
  }

  /**
   * The key to install when the cluster refused the user's key (HTTP 412
   * `cluster_auth_failed`), else `null`.
   */
  get credential(): SshCredential | null {
    if (this.code !== 'cluster_auth_failed') {
      return null;
    }
    const parsed = SshCredentialSchema.safeParse(this.body?.error.details);
    return parsed.success ? parsed.data : null;
  }
}

export namespace BridgeRequestError {
  /**
   * - `unconfigured`: the bridge URL is unknown (no hub, no setting);
   * - `network`: no HTTP answer (connection refused, DNS, CORS);
   * - `timeout`: no answer in time;
   * - `missing`: 404 from something that is not the bridge (not installed);
   * - `unavailable`: 502/503/504 from a proxy (the bridge is not running);
   * - `http`: the bridge answered with an error body;
   * - `invalid-response`: an answer that does not follow the contract.
   */
  export type Reason =
    | 'unconfigured'
    | 'network'
    | 'timeout'
    | 'missing'
    | 'unavailable'
    | 'http'
    | 'invalid-response';

  export interface IOptions {
    reason: Reason;
    message: string;
    url: string | null;
    status?: number;
    body?: ErrorBody | null;
    gatewayCode?: string | null;
  }
}

/** The gateway's (OpenAI's) error shape, answered by the bridge's model routes. */
const GatewayErrorBodySchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string().nullish(),
    code: z.union([z.string(), z.number()]).nullish()
  })
});

/** No HTTP answer: the network failed or the request timed out after `timeoutMs`. */
export function fetchError(
  trans: TranslationBundle,
  url: string,
  base: string,
  timedOut: boolean,
  timeoutMs: number
): BridgeRequestError {
  return new BridgeRequestError({
    reason: timedOut ? 'timeout' : 'network',
    url,
    message: timedOut
      ? trans.__(
          'The HPC Bridge at %1 did not answer within %2 seconds. Check the bridge and the cluster it talks to.',
          base,
          String(Math.round(timeoutMs / 1000))
        )
      : trans.__(
          'Cannot reach the HPC Bridge at %1. Check that the hpc-bridge service is running and registered in JupyterHub (c.JupyterHub.services), or set "Bridge URL" in the settings.',
          base
        )
  });
}

/**
 * An HTTP error answer: the bridge's error body, or a sentence for a proxy's or
 * a missing bridge's answer.
 */
export function httpError(
  trans: TranslationBundle,
  url: string,
  base: string,
  status: number,
  text: string
): BridgeRequestError {
  const json = parseJson(text);
  const body = ErrorBodySchema.safeParse(json);
  if (body.success) {
    return new BridgeRequestError({
      reason: 'http',
      url,
      status,
      body: body.data,
      message: body.data.error.message
    });
  }
  const gateway = GatewayErrorBodySchema.safeParse(json);
  if (gateway.success) {
    const { message, code } = gateway.data.error;
    return new BridgeRequestError({
      reason: 'http',
      url,
      status,
      message,
      gatewayCode: code === null || code === undefined ? null : String(code)
    });
  }
  if (status === 404) {
    return new BridgeRequestError({
      reason: 'missing',
      url,
      status: 404,
      message: trans.__(
        'No HPC Bridge answers at %1 (HTTP 404). Install the bridge (server-bridge) and register it as the JupyterHub service "hpc-bridge", or set "Bridge URL" in the settings.',
        base
      )
    });
  }
  if ([502, 503, 504].includes(status)) {
    return new BridgeRequestError({
      reason: 'unavailable',
      url,
      status,
      message: trans.__(
        'The HPC Bridge at %1 is not running (HTTP %2 from the proxy). Ask your administrator to check the hpc-bridge service and its log.',
        base,
        String(status)
      )
    });
  }
  return new BridgeRequestError({
    reason: 'invalid-response',
    url,
    status,
    message: trans.__(
      'The HPC Bridge at %1 answered HTTP %2 without an error description.',
      base,
      String(status)
    )
  });
}

/** The JSON in `text`, or `undefined`. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The first issues of a failed validation, for a message. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map(issue => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
