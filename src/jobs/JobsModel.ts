import {
  type BridgeEvent,
  type Job,
  type JobElement,
  type JobState,
  type JobSubmit,
  TERMINAL_JOB_STATES,
  type Whoami
} from '@hpc-bridge/server/contract';
import type { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';
import type { Bridge, IBridgeClient } from '../tokens';
import { PolledModel } from '../transport/PolledModel';

/**
 * The user's jobs (hub admins: optionally every user's): the list from
 * `GET /jobs`, kept current by the event stream, or by polling while the
 * stream is down. Filters and the selection live here too, so the widgets
 * only render.
 */
export class JobsModel extends PolledModel {
  constructor(options: JobsModel.IOptions) {
    const interval = options.pollInterval ?? JobsModel.DEFAULT_POLL_INTERVAL_MS;
    super({
      name: 'JobsModel',
      frequency: { interval, backoff: true, max: interval * 6 },
      auto: false
    });
    this._client = options.client;
    this._client.baseUrlChanged.connect(this._onBaseUrlChanged, this);
    if (options.auto ?? true) {
      this.start();
    }
  }

  /** All known jobs, newest first. */
  get jobs(): readonly Job[] {
    return this._jobs;
  }

  /** The jobs that pass the filters, newest first. */
  get filtered(): readonly Job[] {
    return this._jobs.filter(job => JobsModel.matches(job, this._filters));
  }

  /**
   * The first of the filtered jobs, as many as the list shows: a long history
   * (thousands of jobs) is shown a page at a time (`showMore`).
   */
  get shown(): readonly Job[] {
    return this.filtered.slice(0, this._shownCount);
  }

  /** Shows the next page of the filtered jobs. */
  showMore(): void {
    this._shownCount += JobsModel.PAGE_SIZE;
    this.emitChanged();
  }

  get filters(): JobsModel.IFilters {
    return this._filters;
  }

  set filters(filters: JobsModel.IFilters) {
    this._filters = { ...filters };
    this._shownCount = JobsModel.PAGE_SIZE;
    this.emitChanged();
  }

  /** Who the bridge sees, once known. */
  get user(): Whoami | null {
    return this._user;
  }

  /** Whether the user may list every user's jobs (hub admins only). */
  get canShowAll(): boolean {
    return this._user?.roles.includes('admin') ?? false;
  }

  /**
   * Whether every user's jobs are listed (`GET /jobs?all=true`); always
   * `false` for users who are not admins.
   */
  get showAll(): boolean {
    return this._showAll && this.canShowAll;
  }

  set showAll(on: boolean) {
    const next = on && this.canShowAll;
    if (next === this._showAll) {
      return;
    }
    this._showAll = next;
    if (!next) {
      this._jobs = this._jobs.filter(job => this._isMine(job));
      if (this._selectedId !== null && this.selected === null) {
        this._selectedId = null;
      }
    }
    this.emitChanged();
    void this.refresh();
  }

  /** The selected job's id (details shown), or `null`. */
  get selectedId(): string | null {
    return this._selectedId;
  }

  set selectedId(id: string | null) {
    if (id === this._selectedId) {
      return;
    }
    this._selectedId = id;
    this.emitChanged();
  }

  get selected(): Job | null {
    return this._jobs.find(job => job.id === this._selectedId) ?? null;
  }

  /** The error of the last action (cancel, …), or `null`. */
  get actionError(): Error | null {
    return this._actionError;
  }

  /** Ids of jobs with an action in flight. */
  get busy(): ReadonlySet<string> {
    return this._busy;
  }

  /** Whether live events arrive (else the model polls). */
  get live(): boolean {
    return this._stream?.state === 'open';
  }

  /** Emitted once when a job the model saw unfinished reaches a final state. */
  get jobEnded(): ISignal<this, Job> {
    return this._jobEnded;
  }

  /** Emitted for every new version of a job (event, poll, action). */
  get jobUpdated(): ISignal<this, Job> {
    return this._jobUpdated;
  }

  /** Open the event stream and load the list. */
  start(): void {
    if (this.isDisposed || this._stream) {
      return;
    }
    const stream = this._client.events();
    stream.received.connect(this._onEvent, this);
    stream.stateChanged.connect(this._onStreamState, this);
    this._stream = stream;
    void this.poll.start();
  }

  /** Load the list now; resolves once the model holds the result. */
  async refresh(): Promise<void> {
    this._forced = true;
    await super.refresh();
  }

  /** Submit a job; it joins the list at once. */
  async submit(request: JobSubmit): Promise<Job> {
    const job = await this._client.submitJob(request);
    this._upsert(job);
    return job;
  }

  /**
   * Cancel, hold, release or resubmit; a failure is kept in `actionError`
   * and rethrown.
   */
  async act(id: string, action: Bridge.JobAction): Promise<Job> {
    this._busy.add(id);
    this._actionError = null;
    this.emitChanged();
    try {
      const job = await this._client.jobAction(id, action);
      this._upsert(job);
      if (action === 'resubmit') {
        this._selectedId = job.id;
      }
      return job;
    } catch (error) {
      this._actionError =
        error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      this._busy.delete(id);
      if (!this.isDisposed) {
        this.emitChanged();
      }
    }
  }

  /** Fetch one job again (e.g. for its details). */
  async reload(id: string): Promise<Job> {
    const job = await this._client.getJob(id);
    this._upsert(job);
    return job;
  }

  protected disposing(): void {
    this._stream?.dispose();
    this._stream = null;
  }

  // While events arrive the list needs no polling, only explicit refreshes.
  protected standby(): boolean | Poll.Standby {
    return (!this._forced && this._stream?.state === 'open') || 'when-hidden';
  }

  protected async load(): Promise<void> {
    this._forced = false;
    const identified = this._user === null ? this._identify() : null;
    const all = this.showAll;
    const list = await this._client.listJobs(all ? { all: 'true' } : {});
    await identified;
    // Toggled while in flight: the toggle's own refresh brings the right list.
    if (this.isDisposed || all !== this.showAll) {
      return;
    }
    // One merge and one sort: the list may hold thousands of jobs.
    const known = new Map(this._jobs.map(job => [job.id, job]));
    const jobs: Job[] = [];
    for (const job of list.jobs) {
      const previous = known.get(job.id) ?? null;
      if (previous !== null && previous.updatedAt >= job.updatedAt) {
        jobs.push(previous);
        continue;
      }
      jobs.push(job);
      this._announce(previous, job);
    }
    this._jobs = jobs.sort(JobsModel.newestFirst);
  }

  /** Ask who the user is; a failure leaves `user` unknown until the next list. */
  private async _identify(): Promise<void> {
    try {
      const user = await this._client.whoami();
      if (!this.isDisposed) {
        this._user = user;
      }
    } catch {
      // The list request reports the bridge's trouble.
    }
  }

  /** Whether a job belongs to the user (unknown user: assume so). */
  private _isMine(job: Job): boolean {
    return this._user === null || job.owner === this._user.name;
  }

  private _upsert(job: Job): void {
    if (this.isDisposed) {
      return;
    }
    const index = this._jobs.findIndex(known => known.id === job.id);
    const previous = index >= 0 ? (this._jobs[index] ?? null) : null;
    if (previous && previous.updatedAt > job.updatedAt) {
      return;
    }
    const jobs = [...this._jobs];
    if (index >= 0) {
      jobs[index] = job;
    } else {
      jobs.push(job);
    }
    this._jobs = jobs.sort(JobsModel.newestFirst);
    this._announce(previous, job);
    this.emitChanged();
  }

  /** Signals a new version of `job`, and its end once if the model saw it unfinished. */
  private _announce(previous: Job | null, job: Job): void {
    // Only the user's own jobs are announced, not those an admin watches.
    const ended =
      this._isMine(job) &&
      JobsModel.isTerminal(job.state) &&
      ((previous !== null && !JobsModel.isTerminal(previous.state)) ||
        (previous === null && this._watching.has(job.id)));
    if (JobsModel.isTerminal(job.state)) {
      this._watching.delete(job.id);
    } else {
      this._watching.add(job.id);
    }
    this._jobUpdated.emit(job);
    if (ended) {
      this._jobEnded.emit(job);
    }
  }

  private _onEvent(_: Bridge.IEventStream, event: BridgeEvent): void {
    // Admins get every user's jobs over the stream; keep them only when asked.
    if (event.type === 'job' && (this.showAll || this._isMine(event.job))) {
      this._upsert(event.job);
    }
  }

  private _onStreamState(
    stream: Bridge.IEventStream,
    state: Bridge.EventStreamState
  ): void {
    if (state === 'open') {
      // Events missed while disconnected: load the list once, unless the bridge
      // replayed them all.
      if (!stream.resumed) {
        void this.refresh();
      }
    } else if (state === 'connecting') {
      // Back to polling until the stream is open again.
      void this.poll.refresh();
    }
    this.emitChanged();
  }

  private _onBaseUrlChanged(): void {
    this._jobs = [];
    this._user = null;
    this._showAll = false;
    this._stream?.dispose();
    this._stream = null;
    this.reset();
    const started = this.poll.state.phase !== 'constructed';
    if (started) {
      this.start();
      void this.refresh();
    }
  }

  private readonly _client: IBridgeClient;
  private _stream: Bridge.IEventStream | null = null;
  private _forced = false;
  private _jobs: readonly Job[] = [];
  private _filters: JobsModel.IFilters = {};
  private _shownCount = JobsModel.PAGE_SIZE;
  private _user: Whoami | null = null;
  private _showAll = false;
  private _selectedId: string | null = null;
  private _actionError: Error | null = null;
  private readonly _busy = new Set<string>();
  /** Jobs seen unfinished: their end is announced. */
  private readonly _watching = new Set<string>();
  private readonly _jobEnded = new Signal<this, Job>(this);
  private readonly _jobUpdated = new Signal<this, Job>(this);
}

export namespace JobsModel {
  /** Milliseconds between list requests while the event stream is down. */
  export const DEFAULT_POLL_INTERVAL_MS = 5000;

  /** Rows the Jobs list adds at a time. */
  export const PAGE_SIZE = 200;

  export interface IOptions {
    client: IBridgeClient;
    pollInterval?: number;
    /** Open the stream and load the list at once (default `true`). */
    auto?: boolean;
  }

  export interface IFilters {
    /** Only jobs in this state. */
    state?: JobState;
    /** Only jobs whose name contains this (case-insensitive). */
    name?: string;
    /** Only jobs submitted on or after this day (`YYYY-MM-DD`, local time). */
    since?: string;
  }

  export function newestFirst(a: Job, b: Job): number {
    return b.submittedAt.localeCompare(a.submittedAt);
  }

  export function isTerminal(state: JobState): boolean {
    return TERMINAL_JOB_STATES.includes(state);
  }

  export function matches(job: Job, filters: IFilters): boolean {
    if (filters.state && job.state !== filters.state) {
      return false;
    }
    const name = filters.name?.trim().toLowerCase();
    if (name && !job.name.toLowerCase().includes(name)) {
      return false;
    }
    if (filters.since) {
      const since = new Date(`${filters.since}T00:00:00`);
      if (!Number.isNaN(since.getTime()) && new Date(job.submittedAt) < since) {
        return false;
      }
    }
    return true;
  }

  /** The overall progress of a job (summed over its elements), or `null`. */
  export function progress(job: Job): JobElement['progress'] {
    let cell = 0;
    let of = 0;
    let known = false;
    for (const element of job.elements) {
      if (element.progress) {
        known = true;
        cell += element.progress.cell;
        of += element.progress.of;
      }
    }
    return known ? { cell, of } : null;
  }

  /** Whether SLURM holds the job (pending with reason `JobHeld…`). */
  export function isHeld(job: Job): boolean {
    return job.elements.some(element => /held/i.test(element.reason ?? ''));
  }

  /** Which actions make sense in a state. */
  export function actions(job: Job): Bridge.JobAction[] {
    switch (job.state) {
      case 'SUBMITTED':
      case 'PENDING':
        return ['cancel', isHeld(job) ? 'release' : 'hold'];
      case 'RUNNING':
      case 'COMPLETING':
        return ['cancel'];
      case 'SUSPENDED':
        return ['cancel', 'release'];
      case 'UNKNOWN':
        return ['cancel', 'resubmit'];
      default:
        return ['resubmit'];
    }
  }
}
