/** The tier URIs an event brings to an action: the new object, or an ended job's outputs. */
import type { JobOutput, TriggerEvent } from '../../contract';
import type { JobTable } from '../../jobs/repository/jobs';

/** `tier:path`, with a trailing `/` for a folder. */
export function outputUri(o: JobOutput): string {
  return `${o.tier}:${o.path}${o.folder ? '/' : ''}`;
}

/** The outputs of the ended job that reached their tier. */
export function stagedOutputs(
  jobs: JobTable,
  event: TriggerEvent
): JobOutput[] {
  if (event.jobId === undefined) {
    return [];
  }
  return (jobs.get(event.jobId)?.job.outputs ?? []).filter(
    o => o.stageOut === 'done'
  );
}

/** object.created: the object; job.ended: its staged-out outputs; else nothing. */
export function eventUris(jobs: JobTable, event: TriggerEvent): string[] {
  if (event.kind === 'object.created' && event.uri !== undefined) {
    return [event.uri];
  }
  return stagedOutputs(jobs, event).map(outputUri);
}

/** The value of a submit's `parameter`: the object's URI, the job's id, the due minute. */
export function eventValue(event: TriggerEvent): string | null {
  return event.uri ?? event.jobId ?? event.due ?? event.endpoint ?? null;
}
