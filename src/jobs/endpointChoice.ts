import type { Endpoint } from '@hpc-bridge/server/contract';
import { type ISignal, Signal } from '@lumino/signaling';
import type { IEndpointsApi } from '../endpoints/api';

/**
 * The endpoints a job may declare it calls: the user's own (the bridge
 * makes the job a key of each, and only an endpoint's owner makes keys).
 */
export class JobEndpointChoice {
  constructor(private readonly _api: Pick<IEndpointsApi, 'list' | 'whoami'>) {}

  /** The user's endpoints by name, and whether they are still being listed. */
  get state(): JobEndpointChoice.IState {
    return this._state;
  }

  /** The user's endpoints, by name (empty until loaded). */
  get options(): readonly Endpoint[] {
    return this._state.options;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  async load(): Promise<void> {
    this._set({ loading: true });
    try {
      const [me, endpoints] = await Promise.all([
        this._api.whoami(),
        this._api.list()
      ]);
      const options = endpoints
        .filter(ep => ep.owner === me.name)
        .sort((a, b) => a.name.localeCompare(b.name));
      this._set({ options, loading: false, error: null });
    } catch (error) {
      this._set({
        loading: false,
        error: error instanceof Error ? error : new Error(String(error))
      });
    }
  }

  /** `names` with `name` added or removed, in the options' order. */
  toggle(names: readonly string[], name: string, on: boolean): string[] {
    const chosen = new Set(names);
    if (on) {
      chosen.add(name);
    } else {
      chosen.delete(name);
    }
    return [
      ...this.options.map(ep => ep.name).filter(n => chosen.delete(n)),
      ...chosen
    ];
  }

  private _set(change: Partial<JobEndpointChoice.IState>): void {
    this._state = { ...this._state, ...change };
    this._changed.emit();
  }

  private _state: JobEndpointChoice.IState = {
    options: [],
    loading: false,
    error: null
  };
  private readonly _changed = new Signal<this, void>(this);
}

export namespace JobEndpointChoice {
  export interface IState {
    options: readonly Endpoint[];
    loading: boolean;
    /** Why the endpoints could not be listed (the job can still be submitted). */
    error: Error | null;
  }
}
