import type { Job } from '@hpc-bridge/server/contract';
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import type { IBridgeClient } from '../tokens';
import type { JobsModel } from './JobsModel';
import { LogModel } from './LogModel';

/**
 * One job's detail page: the job (live from the JobsModel, or fetched when the
 * list does not hold it, e.g. after a reload or another user's job), and the
 * log of the element the page shows.
 */
export class JobPageModel implements IDisposable {
  constructor(options: JobPageModel.IOptions) {
    this.jobId = options.jobId;
    this._jobs = options.jobs;
    this._client = options.client;
    this._jobs.jobUpdated.connect(this._onJobUpdated, this);
    this._jobs.changed.connect(this._emit, this);
    if (this.job === null) {
      void this.reload();
    }
  }

  readonly jobId: string;

  /** The job, or `null` until it is known. */
  get job(): Job | null {
    const listed = this._jobs.jobs.find(job => job.id === this.jobId) ?? null;
    if (
      listed &&
      (!this._fetched || listed.updatedAt >= this._fetched.updatedAt)
    ) {
      return listed;
    }
    return this._fetched;
  }

  /** The error of the last fetch, or `null`. */
  get error(): Error | null {
    return this._error;
  }

  /** Whether an action on the job is in flight. */
  get busy(): boolean {
    return this._jobs.busy.has(this.jobId);
  }

  /** The error of the last action, or `null`. */
  get actionError(): Error | null {
    return this._jobs.actionError;
  }

  /** The array element whose log the page shows (0 for a plain job). */
  get logElement(): number {
    return this._logElement ?? this.job?.elements[0]?.index ?? 0;
  }

  set logElement(element: number) {
    if (element === this.logElement) {
      return;
    }
    this._logElement = element;
    this._log?.dispose();
    this._log = null;
    this._emit();
  }

  /** The log of `logElement`, followed from when it is first asked for. */
  get log(): LogModel {
    this._log ??= new LogModel({
      client: this._client,
      jobId: this.jobId,
      element: this.logElement
    });
    return this._log;
  }

  /** Fetch the job again. */
  async reload(): Promise<void> {
    try {
      const job = await this._client.getJob(this.jobId);
      this._fetched = job;
      this._error = null;
    } catch (error) {
      this._error = error instanceof Error ? error : new Error(String(error));
    }
    this._emit();
  }

  /** Cancel, hold, release or resubmit; resolves with the job acted on (resubmit: the new one). */
  act(action: JobPageModel.Action): Promise<Job> {
    return this._jobs.act(this.jobId, action);
  }

  /** Emitted when the job, its log element or an action's state change. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._jobs.jobUpdated.disconnect(this._onJobUpdated, this);
    this._jobs.changed.disconnect(this._emit, this);
    this._log?.dispose();
    this._log = null;
    Signal.clearData(this);
  }

  private _onJobUpdated(_: JobsModel, job: Job): void {
    if (job.id === this.jobId) {
      this._fetched = job;
      this._emit();
    }
  }

  private _emit(): void {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  private readonly _jobs: JobsModel;
  private readonly _client: IBridgeClient;
  private _fetched: Job | null = null;
  private _error: Error | null = null;
  private _logElement: number | null = null;
  private _log: LogModel | null = null;
  private _isDisposed = false;
  private readonly _changed = new Signal<this, void>(this);
}

export namespace JobPageModel {
  export type Action = Parameters<JobsModel['act']>[1];

  export interface IOptions {
    jobId: string;
    jobs: JobsModel;
    client: IBridgeClient;
  }
}
