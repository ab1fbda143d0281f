import type { IStateDB } from '@jupyterlab/statedb';
import type { ReadonlyPartialJSONValue } from '@lumino/coreutils';
import { ISignal, Signal } from '@lumino/signaling';

/**
 * Which sections of the panel are folded, by section id (`jobs`, `storage`, …);
 * remembered in the user's state database when one is given.
 */
export class SectionFolds {
  constructor(options: { state?: IStateDB | null } = {}) {
    this._state = options.state ?? null;
  }

  /** Emits the id of a section whose folded state changed. */
  get changed(): ISignal<this, string> {
    return this._changed;
  }

  isFolded(id: string): boolean {
    return this._folded.has(id);
  }

  setFolded(id: string, folded: boolean): void {
    if (folded === this.isFolded(id)) {
      return;
    }
    if (folded) {
      this._folded.add(id);
    } else {
      this._folded.delete(id);
    }
    this._changed.emit(id);
    void this._save();
  }

  toggle(id: string): void {
    this.setFolded(id, !this.isFolded(id));
  }

  /** Reads the saved state; a section folded before the answer keeps its state. */
  async restore(): Promise<void> {
    if (!this._state) {
      return;
    }
    const saved = await this._state.fetch(SectionFolds.STATE_KEY);
    for (const id of SectionFolds.foldedIds(saved)) {
      if (!this._folded.has(id)) {
        this._folded.add(id);
        this._changed.emit(id);
      }
    }
  }

  private async _save(): Promise<void> {
    if (!this._state) {
      return;
    }
    const value: { [id: string]: boolean } = {};
    for (const id of this._folded) {
      value[id] = true;
    }
    await this._state.save(SectionFolds.STATE_KEY, value);
  }

  private readonly _state: IStateDB | null;
  private readonly _folded = new Set<string>();
  private readonly _changed = new Signal<this, string>(this);
}

export namespace SectionFolds {
  /** The state database key: an object mapping a folded section's id to `true`. */
  export const STATE_KEY = 'jupyterlab-hpc-bridge:folded-sections';

  /** The ids marked folded in a saved value; nothing for a value of another shape. */
  export function foldedIds(
    saved: ReadonlyPartialJSONValue | undefined
  ): string[] {
    if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) {
      return [];
    }
    return Object.entries(saved)
      .filter(([, folded]) => folded === true)
      .map(([id]) => id);
  }
}
