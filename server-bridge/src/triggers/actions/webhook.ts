/**
 * `webhook`: POSTs the run (trigger, run id, event) as JSON, with the rules of job
 * webhooks: public addresses only unless the admin allows private networks, the checked
 * address pinned for the request, two attempts.
 */
import type { BaseLogger } from 'pino';
import type { TriggerAction } from '../../contract';
import { DomainError } from '../../domain-error';
import { postJson, type IWebhookOptions } from '../../jobs/webhook';
import type { ActionOutcome, IActionContext, ITriggerAction } from './action';

type WebhookRule = Extract<TriggerAction, { kind: 'webhook' }>;

export class WebhookAction implements ITriggerAction<WebhookRule> {
  constructor(
    private readonly options: IWebhookOptions,
    private readonly logger: Pick<BaseLogger, 'info' | 'warn'>
  ) {}

  async perform(
    { trigger, run }: IActionContext,
    rule: WebhookRule
  ): Promise<ActionOutcome> {
    const body = JSON.stringify({
      trigger: { id: trigger.id, name: trigger.name, owner: trigger.owner },
      run: run.id,
      key: run.key,
      event: run.event
    });
    const outcome = await postJson(rule.url, body, this.options, (attempt, r) =>
      this.logger.info(
        { trigger: trigger.id, run: run.id, attempt, ...r },
        'trigger webhook attempt'
      )
    );
    if (!outcome.delivered) {
      throw new DomainError(
        'conflict',
        `The webhook was not delivered: ${outcome.reason}`
      );
    }
    return { step: 'finished', result: { status: outcome.status } };
  }
}
