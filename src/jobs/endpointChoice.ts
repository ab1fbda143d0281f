import type { Endpoint } from '@hpc-bridge/server/contract';
import { type ISignal, Signal } from '@lumino/signaling';
import type { IEndpointsApi } from '../endpoints/api';

/**
 * The endpoints a job may declare it calls: the user's own (the bridge
 * makes the job a key of each, and only an endpoint's owner makes keys).
 */
export class JobEndpointChoice {
  constructor(private readonly _api: Pick<IEndpointsApi, 'list' | 'whoami'>) {}

  /** The user's endpoints, by name (empty until loaded). */
  get options(): readonly Endpoint[] {
    return this._options;
  }

  get loading(): boolean {
    return this._loading;
  }

  /** Why the endpoints could not be listed (the job can still be submitted). */
  get error(): Error | null {
    return this._error;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  async load(): Promise<void> {
    this._loading = true;
    this._changed.emit();
    try {
      const [me, endpoints] = await Promise.all([
        this._api.whoami(),
        this._api.list()
      ]);
      this._options = endpoints
        .filter(ep => ep.owner === me.name)
        .sort((a, b) => a.name.localeCompare(b.name));
      this._error = null;
    } catch (error) {
      this._error = error instanceof Error ? error : new Error(String(error));
    } finally {
      this._loading = false;
      this._changed.emit();
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
      ...this._options.map(ep => ep.name).filter(n => chosen.delete(n)),
      ...chosen
    ];
  }

  private _options: Endpoint[] = [];
  private _loading = false;
  private _error: Error | null = null;
  private readonly _changed = new Signal<this, void>(this);
}
