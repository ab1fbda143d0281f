import type { Job } from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';

/**
 * The jobs that ended close together, told in one notification: a sweep or
 * a batch of cell jobs ending in the same minute gives "3 jobs finished: …"
 * rather than a pile of notifications.
 */
export class JobEndGroup {
  constructor(private readonly _windowMs = JobEndGroup.WINDOW_MS) {}

  /** The jobs of the current group, in the order they ended. */
  get jobs(): readonly Job[] {
    return this._jobs;
  }

  /**
   * Add a job that ended at `now`; it joins the current group when the
   * group's last job ended less than the window before, else starts one.
   * Returns whether it started a new group.
   */
  add(job: Job, now: number = Date.now()): boolean {
    const startsGroup =
      this._jobs.length === 0 || now - this._lastEnd > this._windowMs;
    const kept = startsGroup ? [] : this._jobs.filter(j => j.id !== job.id);
    this._jobs = [...kept, job];
    this._lastEnd = now;
    return startsGroup;
  }

  /** Start over with `job` alone (its group's notification was dismissed). */
  restart(job: Job, now: number = Date.now()): void {
    this._jobs = [job];
    this._lastEnd = now;
  }

  private _jobs: readonly Job[] = [];
  private _lastEnd = 0;
}

export namespace JobEndGroup {
  /** How long a job-end notification stays on screen. */
  export const AUTO_CLOSE_MS = 15_000;
  /** Jobs ending within this of the last one join its notification (still on screen). */
  export const WINDOW_MS = 10_000;
  /** Names listed in a group's message; the rest are counted. */
  export const NAMES_SHOWN = 4;

  export type NoticeType = 'success' | 'info' | 'error';

  /** What a job-end notification says, and its kind. */
  export interface ISummary {
    message: string;
    type: NoticeType;
  }

  /** The message and kind of the notification of `jobs` (one or more). */
  export function summarize(
    jobs: readonly Job[],
    trans: TranslationBundle
  ): ISummary {
    const type = noticeType(jobs);
    if (jobs.length === 1) {
      const [job] = jobs;
      return {
        message: trans.__('Job %1 (%2): %3', job.name, job.id, job.state),
        type
      };
    }
    const named = jobs
      .slice(0, NAMES_SHOWN)
      .map(job => trans.__('%1 (%2)', job.name, job.state));
    const rest = jobs.length - named.length;
    if (rest > 0) {
      named.push(trans._n('%1 more', '%1 more', rest, rest));
    }
    return {
      message: trans.__('%1 jobs finished: %2', jobs.length, named.join(', ')),
      type
    };
  }

  /** Success when all completed, an error when one failed, else info. */
  function noticeType(jobs: readonly Job[]): NoticeType {
    if (jobs.every(job => job.state === 'COMPLETED')) {
      return 'success';
    }
    const failed = jobs.some(
      job => job.state !== 'COMPLETED' && job.state !== 'CANCELLED'
    );
    return failed ? 'error' : 'info';
  }
}
