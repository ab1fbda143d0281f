/**
 * Core-hours and GPU-hours of jobs in a time window. Each element (the job, or one array
 * element) ran from its start to its end with the job's cpus and gpus; only the part of
 * that run inside the window counts. An element that has started and not ended yet counts
 * until `now` (the time of the query); one that never started counts nothing.
 */
import { TERMINAL_JOB_STATES, type Job, type JobElement } from '../contract';

export const RUNNING_JOBS_NOTE =
  'Elements still running count from their start until the time of this answer; pending elements count nothing.';

export interface IWindow {
  /** Epoch milliseconds. */
  since: number;
  until: number;
}

export interface IComputeHours {
  coreHours: number;
  gpuHours: number;
}

function ms(iso: string | null): number | null {
  return iso === null ? null : Date.parse(iso);
}

/** The element's run as [start, end] in epoch ms, or null when it never ran. */
export function runOf(
  element: JobElement,
  now: number
): [number, number] | null {
  const elapsedMs =
    element.elapsedSeconds === null ? null : element.elapsedSeconds * 1000;
  let start = ms(element.startedAt);
  let end = ms(element.endedAt);
  if (start === null && end !== null && elapsedMs !== null) {
    start = end - elapsedMs;
  }
  if (start === null) {
    return null;
  }
  if (end === null) {
    const ended = TERMINAL_JOB_STATES.includes(element.state);
    if (ended && elapsedMs === null) {
      return null;
    }
    end = ended ? start + (elapsedMs ?? 0) : now;
  }
  return end > start ? [start, end] : null;
}

/** Seconds of [start, end] inside the window. */
export function overlapSeconds(run: [number, number], window: IWindow): number {
  const from = Math.max(run[0], window.since);
  const to = Math.min(run[1], window.until);
  return to > from ? (to - from) / 1000 : 0;
}

/** The job's core-hours and GPU-hours inside the window. */
export function computeHours(
  job: Job,
  window: IWindow,
  now: number
): IComputeHours {
  let seconds = 0;
  for (const element of job.elements) {
    const run = runOf(element, now);
    if (run !== null) {
      seconds += overlapSeconds(run, window);
    }
  }
  return {
    coreHours: (seconds * job.resources.cpus) / 3600,
    gpuHours: (seconds * job.resources.gpus) / 3600
  };
}

/** Rounds hours for display and JSON (4 decimals: a fraction of a second on one core). */
export function roundHours(h: number): number {
  return Math.round(h * 10_000) / 10_000;
}
