import type * as contract from '@hpc-bridge/server/contract';
import { SectionModel } from '../transport/SectionModel';
import type { IPipelinesApi } from './api';
import type { TriggerSummary } from './summary';

/**
 * The Pipelines section's state: the user's triggers with their last runs,
 * the names of the endpoints they roll, and which trigger has an action in
 * flight. Polls while the section is on screen, faster while a run is going.
 * No widget code here.
 */
export class PipelinesModel extends SectionModel {
  constructor(options: PipelinesModel.IOptions) {
    super({
      name: 'PipelinesModel',
      interval: options.pollInterval ?? PipelinesModel.POLL_INTERVAL_MS,
      fastInterval:
        options.fastPollInterval ?? PipelinesModel.FAST_POLL_INTERVAL_MS,
      auto: options.auto
    });
    this._api = options.api;
  }

  /** The user's triggers, newest first. */
  get triggers(): readonly contract.Trigger[] {
    return this._triggers;
  }

  trigger(id: string): contract.Trigger | null {
    return this._triggers.find(trigger => trigger.id === id) ?? null;
  }

  /** Names for the sentences (endpoints and triggers by id). */
  get names(): TriggerSummary.INames {
    return {
      endpoint: id => this._endpointNames.get(id),
      trigger: id => this.trigger(id)?.name
    };
  }

  /** Whether an action (pause, resume, delete) on the trigger is in flight. */
  busy(id: string): boolean {
    return this._busy.has(id);
  }

  /** Create a trigger; rejects with the bridge's refusal. It is listed first. */
  async create(request: contract.TriggerCreate): Promise<contract.Trigger> {
    return this._upsert(await this._api.create(request));
  }

  /** Pause (its events wait) or resume a trigger. */
  async setPaused(id: string, paused: boolean): Promise<contract.Trigger> {
    return this._upsert(
      await this._act(id, () =>
        this._api.patch(id, { state: paused ? 'paused' : 'active' })
      )
    );
  }

  /** Delete a trigger; the jobs its runs submitted keep running. */
  async deleteTrigger(id: string): Promise<void> {
    await this._act(id, () => this._api.remove(id));
    this._triggers = this._triggers.filter(trigger => trigger.id !== id);
    this.emitChanged();
  }

  /** What would fire now, and whether it would start or wait. */
  dryRun(id: string): Promise<contract.TriggerDryRun> {
    return this._api.dryRun(id);
  }

  protected async load(): Promise<void> {
    const triggers = await this._api.list();
    this._triggers = PipelinesModel.sorted(triggers);
    await this._loadEndpointNames();
    this.pollFast(this._triggers.some(PipelinesModel.isBusy));
  }

  /** The names of endpoints the triggers roll, once; unknown ones stay ids. */
  private async _loadEndpointNames(): Promise<void> {
    const wanted = this._triggers.some(trigger => {
      const id = PipelinesModel.endpointOf(trigger);
      return id !== null && !this._endpointNames.has(id);
    });
    if (!wanted) {
      return;
    }
    try {
      for (const endpoint of await this._api.endpoints()) {
        this._endpointNames.set(endpoint.id, endpoint.name);
      }
    } catch {
      // The sentences fall back to the endpoint's id.
    }
  }

  private async _act<T>(id: string, act: () => Promise<T>): Promise<T> {
    this._busy.add(id);
    this.emitChanged();
    try {
      return await act();
    } finally {
      this._busy.delete(id);
      this.emitChanged();
    }
  }

  private _upsert(trigger: contract.Trigger): contract.Trigger {
    const others = this._triggers.filter(other => other.id !== trigger.id);
    this._triggers = PipelinesModel.sorted([...others, trigger]);
    this.emitChanged();
    return trigger;
  }

  private readonly _api: IPipelinesApi;
  private _triggers: contract.Trigger[] = [];
  private readonly _endpointNames = new Map<string, string>();
  private readonly _busy = new Set<string>();
}

export namespace PipelinesModel {
  export const POLL_INTERVAL_MS = 15_000;
  /** While a run waits, starts or runs. */
  export const FAST_POLL_INTERVAL_MS = 3_000;

  export interface IOptions {
    api: IPipelinesApi;
    pollInterval?: number;
    fastPollInterval?: number;
    /** Start polling at once (default: wait for `start()`). */
    auto?: boolean;
  }

  /** Newest first, then by name. */
  export function sorted(
    triggers: readonly contract.Trigger[]
  ): contract.Trigger[] {
    return [...triggers].sort(
      (a, b) =>
        b.createdAt.localeCompare(a.createdAt) || a.name.localeCompare(b.name)
    );
  }

  /** Whether one of the trigger's last runs has not ended. */
  export function isBusy(trigger: contract.Trigger): boolean {
    return trigger.lastRuns.some(
      run => run.state !== 'done' && run.state !== 'failed'
    );
  }

  /** The endpoint a trigger watches or rolls, or `null`. */
  export function endpointOf(trigger: contract.Trigger): string | null {
    if (trigger.action.kind === 'roll-endpoint') {
      return trigger.action.endpoint;
    }
    return trigger.source.kind === 'endpoint.idle'
      ? trigger.source.endpoint
      : null;
  }

  /**
   * A written object of a run (`archive:results/42/model.gguf`) taken apart
   * for the tier's file browser and the lineage; `null` for anything else.
   */
  export function objectOf(uri: string): { tier: string; path: string } | null {
    const match = /^([a-z][a-z0-9-]{0,31}):([^/].*)$/.exec(uri);
    return match ? { tier: match[1], path: match[2] } : null;
  }
}
