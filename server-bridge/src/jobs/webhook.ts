/** POSTs a finished job to its webhook: 5 s timeout, one retry, failures only logged. */
import type { BaseLogger } from 'pino';
import type { Job } from '../contract';
import { webhookRefusal, type Lookup } from './webhook-target';

export interface IWebhookOptions {
  /** The admin's `webhooks.allowPrivateNetworks`. */
  allowPrivateNetworks: boolean;
  fetchImpl?: typeof fetch;
  lookup?: Lookup;
}

export async function postWebhook(
  url: string,
  job: Job,
  logger: Pick<BaseLogger, 'info' | 'warn'>,
  options: IWebhookOptions
): Promise<boolean> {
  const fetchImpl = options.fetchImpl ?? fetch;
  if (!options.allowPrivateNetworks) {
    const refusal = await webhookRefusal(url, options.lookup).catch(
      (e: unknown) => `lookup failed: ${(e as Error).message}`
    );
    if (refusal !== null) {
      logger.warn({ job: job.id, reason: refusal }, 'webhook refused');
      return false;
    }
  }
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      const res = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(job),
        redirect: 'manual',
        signal: AbortSignal.timeout(5_000)
      });
      await res.body?.cancel();
      if (res.ok) {
        logger.info({ job: job.id, status: res.status }, 'webhook delivered');
        return true;
      }
      logger.warn(
        { job: job.id, status: res.status, attempt },
        'webhook answered with an error'
      );
    } catch (e) {
      logger.warn(
        { job: job.id, err: (e as Error).message, attempt },
        'webhook failed'
      );
    }
  }
  return false;
}
