import type { Poll } from '@lumino/polling';
import { PolledModel } from './PolledModel';

/**
 * The model of a panel section that polls only while the section is on screen
 * (its `VisibleSectionWidget` sets `visible`), faster while something the
 * section shows is on its way (`pollFast`), and loads on `refresh()` even while
 * hidden (a command, a new bridge URL). Polling starts with `start()`, once the
 * application is restored, unless `auto` is set.
 */
export abstract class SectionModel extends PolledModel {
  protected constructor(options: SectionModel.IOptions) {
    super({
      name: options.name,
      frequency: SectionModel.frequency(options.interval, options.interval),
      auto: options.auto ?? false
    });
    this._interval = options.interval;
    this._fastInterval = options.fastInterval;
  }

  /** Whether the section is on screen (the model polls only then). */
  get visible(): boolean {
    return this._visible;
  }

  set visible(visible: boolean) {
    if (visible === this._visible) {
      return;
    }
    this._visible = visible;
    if (visible && this.poll.state.phase !== 'constructed') {
      void this.poll.refresh();
    }
  }

  /** Start polling (after the app is restored). */
  async start(): Promise<void> {
    await this.poll.start();
  }

  /** Load now, even while the section is hidden. */
  async refresh(): Promise<void> {
    this._forced = true;
    try {
      await super.refresh();
    } finally {
      this._forced = false;
    }
  }

  protected standby(): boolean | Poll.Standby {
    return (!this._visible && !this._forced) || 'when-hidden';
  }

  /** Poll at the fast interval while `fast`, else at the normal one. */
  protected pollFast(fast: boolean): void {
    this.poll.frequency = SectionModel.frequency(
      fast ? this._fastInterval : this._interval,
      this._interval
    );
  }

  private readonly _interval: number;
  private readonly _fastInterval: number;
  private _visible = false;
  private _forced = false;
}

export namespace SectionModel {
  export interface IOptions {
    /** For the poll's name: `jupyterlab-hpc-bridge:NAME`. */
    name: string;
    /** Milliseconds between loads; backs off to six times this while the bridge fails. */
    interval: number;
    /** Milliseconds between loads while something settles. */
    fastInterval: number;
    /** Start polling at once (default: wait for `start()`). */
    auto?: boolean;
  }

  /** Every `interval` ms, backing off to six times `normal` while loads fail. */
  export function frequency(
    interval: number,
    normal: number
  ): { interval: number; backoff: true; max: number } {
    return { interval, backoff: true, max: normal * 6 };
  }
}
