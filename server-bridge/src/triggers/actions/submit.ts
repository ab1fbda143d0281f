/**
 * `submit`: the trigger's job with the event's data, as the owner, under the job id the
 * run reserved when it was claimed. Exactly one job per event, across a bridge killed
 * at any moment: before submitting again, a later attempt looks for the job first, in
 * the jobs table (recorded: nothing to do) and then on the cluster, for a SLURM job in
 * that id's working directory (sbatch ran but the bridge died before recording it: the
 * job is adopted). Windows left: a job that sbatch accepted, that already left the queue
 * and that accounting (slurmdbd) has not recorded yet is not found and runs twice; a
 * lookup that fails leaves the run to be tried again, never submitted blindly.
 */
import {
  JobSubmitSchema,
  type JobSubmit,
  type TriggerAction,
  type TriggerEvent
} from '../../contract';
import { DomainError } from '../../domain-error';
import type { JobService } from '../../jobs/service';
import type { ActionOutcome, IActionContext, ITriggerAction } from './action';
import { eventUris, eventValue } from './event-data';

type SubmitRule = Extract<TriggerAction, { kind: 'submit' }>;

/** The trigger's job with the event's URIs first among its inputs and `parameter` set. */
export function jobRequestFor(
  rule: SubmitRule,
  event: TriggerEvent,
  uris: readonly string[]
): JobSubmit {
  const inputs = [...uris, ...(rule.job.inputs ?? [])];
  const parsed = JobSubmitSchema.safeParse({
    ...rule.job,
    ...(inputs.length === 0 ? {} : { inputs }),
    parameters: { ...rule.job.parameters, [rule.parameter]: eventValue(event) }
  });
  if (!parsed.success) {
    throw new DomainError(
      'bad_request',
      `The job for this event is not valid: ${parsed.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; ')}`
    );
  }
  return parsed.data;
}

export class SubmitAction implements ITriggerAction<SubmitRule> {
  constructor(private readonly jobs: JobService) {}

  async perform(ctx: IActionContext, rule: SubmitRule): Promise<ActionOutcome> {
    const { run, owner, trigger } = ctx;
    const id = run.jobId;
    if (id === null) {
      throw new DomainError('internal', `run ${run.id} has no reserved job id`);
    }
    const outcome: ActionOutcome = { step: 'submitted', result: { jobId: id } };
    if (this.jobs.table.get(id) !== undefined) {
      return outcome;
    }
    const req = jobRequestFor(
      rule,
      run.event,
      eventUris(this.jobs.table, run.event)
    );
    const from = { id: trigger.id, run: run.id };
    if (run.attempts > 1) {
      const since = new Date(run.claimedAt ?? run.firedAt);
      const [found] = await this.jobs.onCluster(owner, req, id, since);
      if (found !== undefined) {
        await this.jobs.submit(owner, req, { id, trigger: from, adopt: found });
        return outcome;
      }
    }
    await this.jobs.submit(owner, req, { id, trigger: from });
    return outcome;
  }
}
