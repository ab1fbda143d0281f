import { type Job, JobStateSchema } from '@hpc-bridge/server/contract';
import type { IStateDB } from '@jupyterlab/statedb';
import type { ReadonlyPartialJSONValue } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import { z } from 'zod';
import { JobsModel } from './JobsModel';

/**
 * What the Jobs page shows of the jobs: its own filters, a sort order and a
 * page of the result. The jobs themselves come from the `source` (the
 * JobsModel the panel's section shows), so the page is as live as the section.
 * With a state database, the sort, the filters and the page are remembered for
 * the user and restored when the page opens again.
 */
export class JobsPageModel implements IDisposable {
  constructor(options: JobsPageModel.IOptions) {
    this._source = options.source;
    this._pageSize = options.pageSize ?? JobsPageModel.DEFAULT_PAGE_SIZE;
    this._state = options.state ?? null;
    this._source.changed.connect(this._onSourceChanged, this);
  }

  /** Reads the saved view; a change made before the answer keeps its state. */
  async restore(): Promise<void> {
    if (!this._state) {
      return;
    }
    const saved = JobsPageModel.savedView(
      await this._state.fetch(JobsPageModel.STATE_KEY)
    );
    if (saved === null || this._changedByUser || this._isDisposed) {
      return;
    }
    this._sort = saved.sort;
    this._filters = saved.filters;
    // Not clamped: the jobs may not have arrived yet; the getter clamps.
    this._page = saved.page;
    this._changedState();
  }

  get sort(): JobsPageModel.ISort {
    return this._sort;
  }

  /**
   * Sort by `key`: a new key starts in its natural direction (newest first
   * for dates, A to Z otherwise); the current key flips its direction.
   */
  sortBy(key: JobsPageModel.SortKey): void {
    const direction: JobsPageModel.Direction =
      key === this._sort.key
        ? this._sort.direction === 'ascending'
          ? 'descending'
          : 'ascending'
        : JobsPageModel.naturalDirection(key);
    this._sort = { key, direction };
    this._page = 0;
    this._changedView();
  }

  get filters(): JobsModel.IFilters {
    return this._filters;
  }

  set filters(filters: JobsModel.IFilters) {
    this._filters = { ...filters };
    this._page = 0;
    this._changedView();
  }

  get pageSize(): number {
    return this._pageSize;
  }

  /** The page shown, from 0; always within `pageCount`. */
  get page(): number {
    return Math.min(this._page, this.pageCount - 1);
  }

  set page(page: number) {
    const next = Math.max(0, Math.min(Math.floor(page), this.pageCount - 1));
    if (next !== this.page) {
      this._page = next;
      this._changedByUser = true;
      this._changed.emit();
      void this._save();
    }
  }

  /** How many pages the matching jobs fill (at least 1, even when none match). */
  get pageCount(): number {
    return Math.max(1, Math.ceil(this.matching.length / this._pageSize));
  }

  nextPage(): void {
    this.page = this.page + 1;
  }

  previousPage(): void {
    this.page = this.page - 1;
  }

  /** Every job that passes the filters, in the sort order. */
  get matching(): readonly Job[] {
    if (this._matching === null) {
      const compare = JobsPageModel.comparator(this._sort);
      this._matching = this._source.jobs
        .filter(job => JobsModel.matches(job, this._filters))
        .sort(compare);
    }
    return this._matching;
  }

  /** The jobs of the current page. */
  get rows(): readonly Job[] {
    const start = this.page * this._pageSize;
    return this.matching.slice(start, start + this._pageSize);
  }

  /** How many jobs there are without filters. */
  get total(): number {
    return this._source.jobs.length;
  }

  /** Emitted when the rows, the sort, the filters or the page change. */
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
    this._source.changed.disconnect(this._onSourceChanged, this);
    Signal.clearData(this);
  }

  private _onSourceChanged(): void {
    this._changedState();
  }

  private _changedState(): void {
    this._matching = null;
    this._changed.emit();
  }

  /** The user changed the sort or the filters. */
  private _changedView(): void {
    this._changedByUser = true;
    this._changedState();
    void this._save();
  }

  private async _save(): Promise<void> {
    if (!this._state) {
      return;
    }
    const view: JobsPageModel.ISavedView = {
      sort: this._sort,
      filters: this._filters,
      page: this._page
    };
    // The filters' absent keys are left out: the state database stores JSON.
    await this._state.save(
      JobsPageModel.STATE_KEY,
      JSON.parse(JSON.stringify(view))
    );
  }

  private readonly _source: JobsPageModel.ISource;
  private readonly _pageSize: number;
  private readonly _state: IStateDB | null;
  private _changedByUser = false;
  private _sort: JobsPageModel.ISort = {
    key: 'submitted',
    direction: 'descending'
  };
  private _filters: JobsModel.IFilters = {};
  private _page = 0;
  private _matching: Job[] | null = null;
  private _isDisposed = false;
  private readonly _changed = new Signal<this, void>(this);
}

export namespace JobsPageModel {
  /** Rows per page. */
  export const DEFAULT_PAGE_SIZE = 25;

  export const SORT_KEYS = [
    'name',
    'state',
    'owner',
    'cluster',
    'submitted',
    'updated'
  ] as const;

  export type SortKey = (typeof SORT_KEYS)[number];

  export type Direction = 'ascending' | 'descending';

  export interface ISort {
    key: SortKey;
    direction: Direction;
  }

  /** The jobs and when they change: the JobsModel. */
  export interface ISource {
    readonly jobs: readonly Job[];
    readonly changed: ISignal<unknown, void>;
  }

  export interface IOptions {
    source: ISource;
    pageSize?: number;
    /** Where the user's sort, filters and page are remembered. */
    state?: IStateDB | null;
  }

  /** The state database key of the page's view. */
  export const STATE_KEY = 'jupyterlab-hpc-bridge:jobs-page';

  /** What is remembered of the page. */
  export interface ISavedView {
    sort: ISort;
    filters: JobsModel.IFilters;
    page: number;
  }

  const SavedViewSchema = z.object({
    sort: z.object({
      key: z.enum(SORT_KEYS),
      direction: z.enum(['ascending', 'descending'])
    }),
    filters: z.object({
      state: JobStateSchema.optional(),
      name: z.string().optional(),
      since: z.string().optional()
    }),
    page: z.number().int().min(0)
  });

  /** The view in a saved value; null for a value of another shape (an older version's). */
  export function savedView(
    saved: ReadonlyPartialJSONValue | undefined
  ): ISavedView | null {
    const parsed = SavedViewSchema.safeParse(saved);
    return parsed.success ? parsed.data : null;
  }

  /** Dates start newest first, text A to Z. */
  export function naturalDirection(key: SortKey): Direction {
    return key === 'submitted' || key === 'updated'
      ? 'descending'
      : 'ascending';
  }

  const VALUES: Record<SortKey, (job: Job) => string> = {
    name: job => job.name.toLowerCase(),
    state: job => job.state,
    owner: job => job.owner,
    cluster: job => job.cluster,
    // ISO 8601 in UTC: the text sorts as the time does.
    submitted: job => job.submittedAt,
    updated: job => job.updatedAt
  };

  /** Compares two jobs in `sort`'s order; ties go newest first. */
  export function comparator(sort: ISort): (a: Job, b: Job) => number {
    const value = VALUES[sort.key];
    const sign = sort.direction === 'ascending' ? 1 : -1;
    return (a, b) =>
      sign * value(a).localeCompare(value(b)) || JobsModel.newestFirst(a, b);
  }
}
