/** POSTs a finished job to its webhook: 5 s timeout, one retry, failures only logged. */
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { BaseLogger } from 'pino';
import type { Job } from '../contract';
import {
  webhookTarget,
  type IWebhookTarget,
  type Lookup
} from './webhook-target';

/** One POST to a webhook; resolves with the HTTP status. */
export type WebhookSend = (
  target: IWebhookTarget,
  body: string,
  timeoutMs: number
) => Promise<number>;

export interface IWebhookOptions {
  /** The admin's `webhooks.allowPrivateNetworks`. */
  allowPrivateNetworks: boolean;
  /** How the POST is made (a recorder in unit tests); default: `sendPinned`. */
  send?: WebhookSend;
  lookup?: Lookup;
}

/** A `lookup` for `http.request` that answers the checked address and nothing else. */
export function pinnedLookup(target: IWebhookTarget): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all === true) {
      callback(null, [{ address: target.address, family: target.family }]);
    } else {
      callback(null, target.address, target.family);
    }
  };
}

/**
 * POSTs to the target's address itself: the name is not resolved again, while the Host
 * header and the TLS server name (and certificate check) stay the URL's host.
 */
export const sendPinned: WebhookSend = (target, body, timeoutMs) =>
  new Promise((resolve, reject) => {
    const { url } = target;
    const options: RequestOptions = {
      method: 'POST',
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body)
      },
      lookup: pinnedLookup(target),
      agent: false,
      signal: AbortSignal.timeout(timeoutMs)
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      options,
      res => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }
    );
    req.on('error', reject);
    req.end(body);
  });

export type WebhookOutcome =
  | { delivered: true; status: number }
  | {
      delivered: false;
      reason: string;
      status?: number;
      /** The address failed the checks: nothing was sent. */
      refused?: true;
    };

/**
 * POSTs `body` (JSON) to `url` once its address passes the checks: two attempts, each
 * reported to `log`; answers the first 2xx status, or why nothing was delivered.
 */
export async function postJson(
  url: string,
  body: string,
  options: IWebhookOptions,
  log: (attempt: number, outcome: { status?: number; err?: string }) => void
): Promise<WebhookOutcome> {
  const send = options.send ?? sendPinned;
  const result = await webhookTarget(
    url,
    options.lookup,
    options.allowPrivateNetworks
  ).catch(
    (e: unknown) =>
      ({
        ok: false,
        reason: `lookup failed: ${(e as Error).message}`
      }) as const
  );
  if (!result.ok) {
    return { delivered: false, reason: result.reason, refused: true };
  }
  let last: WebhookOutcome = { delivered: false, reason: 'not sent' };
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      const status = await send(result.target, body, 5_000);
      log(attempt, { status });
      if (status >= 200 && status < 300) {
        return { delivered: true, status };
      }
      last = { delivered: false, status, reason: `answered ${status}` };
    } catch (e) {
      log(attempt, { err: (e as Error).message });
      last = { delivered: false, reason: (e as Error).message };
    }
  }
  return last;
}

export async function postWebhook(
  url: string,
  job: Job,
  logger: Pick<BaseLogger, 'info' | 'warn'>,
  options: IWebhookOptions
): Promise<boolean> {
  const outcome = await postJson(
    url,
    JSON.stringify(job),
    options,
    (attempt, { status, err }) => {
      if (status !== undefined && status >= 200 && status < 300) {
        logger.info({ job: job.id, status }, 'webhook delivered');
      } else if (status !== undefined) {
        logger.warn(
          { job: job.id, status, attempt },
          'webhook answered with an error'
        );
      } else {
        logger.warn({ job: job.id, err, attempt }, 'webhook failed');
      }
    }
  );
  if (!outcome.delivered && outcome.refused === true) {
    logger.warn({ job: job.id, reason: outcome.reason }, 'webhook refused');
  }
  return outcome.delivered;
}
