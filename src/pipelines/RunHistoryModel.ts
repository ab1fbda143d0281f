import type { TriggerRun } from '@hpc-bridge/server/contract';
import { type ISignal, Signal } from '@lumino/signaling';
import type { IPipelinesApi } from './api';

/**
 * The run history of one trigger: pages of runs, newest first, each next
 * page asked for with `before` the oldest run shown.
 */
export class RunHistoryModel {
  constructor(options: RunHistoryModel.IOptions) {
    this._api = options.api;
    this.triggerId = options.triggerId;
    this._pageSize = options.pageSize ?? RunHistoryModel.PAGE_SIZE;
  }

  readonly triggerId: string;

  get runs(): readonly TriggerRun[] {
    return this._runs;
  }

  get loading(): boolean {
    return this._loading;
  }

  /** Why the last page could not be read, or `null`. */
  get error(): Error | null {
    return this._error;
  }

  /** Whether older runs may follow (the last page was full). */
  get hasMore(): boolean {
    return this._hasMore;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The newest page again, forgetting the older ones. */
  async reload(): Promise<void> {
    this._runs = [];
    this._hasMore = true;
    await this.loadMore();
  }

  /** The next page back in time. */
  async loadMore(): Promise<void> {
    if (this._loading || !this._hasMore) {
      return;
    }
    this._loading = true;
    this._changed.emit();
    try {
      const oldest = this._runs[this._runs.length - 1];
      const page = await this._api.runs(this.triggerId, {
        before: oldest?.id,
        limit: this._pageSize
      });
      const known = new Set(this._runs.map(run => run.id));
      this._runs = [...this._runs, ...page.filter(run => !known.has(run.id))];
      this._hasMore = page.length >= this._pageSize;
      this._error = null;
    } catch (error) {
      this._error = error instanceof Error ? error : new Error(String(error));
    } finally {
      this._loading = false;
      this._changed.emit();
    }
  }

  private readonly _api: Pick<IPipelinesApi, 'runs'>;
  private readonly _pageSize: number;
  private _runs: TriggerRun[] = [];
  private _loading = false;
  private _error: Error | null = null;
  private _hasMore = true;
  private readonly _changed = new Signal<this, void>(this);
}

export namespace RunHistoryModel {
  export const PAGE_SIZE = 50;

  export interface IOptions {
    api: Pick<IPipelinesApi, 'runs'>;
    triggerId: string;
    pageSize?: number;
  }
}
