/**
 * `roll-endpoint`: the owner's endpoint serves the model file the ended job wrote (its
 * output `output`), through a port the endpoints feature implements.
 */
import type { IAuthUser } from '../../auth/decide';
import type { TriggerAction } from '../../contract';
import { DomainError } from '../../domain-error';
import type { JobTable } from '../../jobs/repository/jobs';
import type { ActionOutcome, IActionContext, ITriggerAction } from './action';
import { outputUri } from './event-data';

type RollRule = Extract<TriggerAction, { kind: 'roll-endpoint' }>;

/** Starts a replica of the endpoint on `modelUri` and drains the old ones (same URL and keys). */
export interface IEndpointRoller {
  roll(
    user: IAuthUser,
    endpointId: string,
    modelUri: string
  ): Promise<{ endpoint: string }>;
}

/** A bridge without serving endpoints: every roll is refused, with the reason. */
export const unavailableRoller: IEndpointRoller = {
  roll: () =>
    Promise.reject(
      new DomainError(
        'conflict',
        'Rolling endpoints is not available on this bridge yet'
      )
    )
};

export class RollEndpointAction implements ITriggerAction<RollRule> {
  constructor(
    private readonly roller: IEndpointRoller,
    private readonly jobs: JobTable
  ) {}

  async perform(ctx: IActionContext, rule: RollRule): Promise<ActionOutcome> {
    const jobId = ctx.run.event.jobId ?? '';
    // Output i of a job that is not a sweep is the job's i-th output entry.
    const output = this.jobs.get(jobId)?.job.outputs?.[rule.output];
    if (output?.stageOut !== 'done') {
      throw new DomainError(
        'not_found',
        `Job ${jobId} has no staged-out output ${rule.output} to serve`
      );
    }
    const rolled = await this.roller.roll(
      ctx.owner,
      rule.endpoint,
      outputUri(output)
    );
    return { step: 'finished', result: { endpoint: rolled.endpoint } };
  }
}
