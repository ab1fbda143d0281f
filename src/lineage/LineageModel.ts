import type {
  Job,
  Lineage,
  LineageRecord,
  ObjectVersion
} from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import { type ISignal, Signal } from '@lumino/signaling';
import { StorageModel } from '../storage/StorageModel';
import type { ILineageApi } from './api';

/**
 * The lineage of one object of a tier: what made it, from which inputs, back
 * to the raw ones; and "Re-run with the same inputs" of the job that made it.
 */
export class LineageModel {
  constructor(options: LineageModel.IOptions) {
    this._api = options.api;
    this.tier = options.tier;
    this.path = options.path;
  }

  readonly tier: string;
  readonly path: string;

  get lineage(): Lineage | null {
    return this._lineage;
  }

  /** The steps of the chain, the object first (empty until loaded). */
  get steps(): LineageChain.IStep[] {
    return this._lineage ? LineageChain.steps(this._lineage) : [];
  }

  get loading(): boolean {
    return this._loading;
  }

  get error(): Error | null {
    return this._error;
  }

  /** The job the last re-run submitted. */
  get resubmitted(): Job | null {
    return this._resubmitted;
  }

  get resubmitting(): boolean {
    return this._resubmitting;
  }

  /** Why the last re-run was refused. */
  get resubmitError(): Error | null {
    return this._resubmitError;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  async load(): Promise<void> {
    this._loading = true;
    this._changed.emit();
    try {
      this._lineage = await this._api.lineage(this.tier, this.path);
      this._error = null;
    } catch (error) {
      this._error = asError(error);
    } finally {
      this._loading = false;
      this._changed.emit();
    }
  }

  /** Submit the job that made the object again; resolves with the new job. */
  async resubmit(jobId: string): Promise<Job | null> {
    this._resubmitting = true;
    this._resubmitError = null;
    this._changed.emit();
    try {
      this._resubmitted = await this._api.resubmit(jobId);
      return this._resubmitted;
    } catch (error) {
      this._resubmitError = asError(error);
      return null;
    } finally {
      this._resubmitting = false;
      this._changed.emit();
    }
  }

  private readonly _api: ILineageApi;
  private _lineage: Lineage | null = null;
  private _loading = false;
  private _error: Error | null = null;
  private _resubmitted: Job | null = null;
  private _resubmitting = false;
  private _resubmitError: Error | null = null;
  private readonly _changed = new Signal<this, void>(this);
}

export namespace LineageModel {
  export interface IOptions {
    api: ILineageApi;
    tier: string;
    path: string;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The lineage records as a chain of steps a dialog reads top to bottom. */
export namespace LineageChain {
  /** An input of a step: made by a job of the chain, raw, or withheld from the caller. */
  export interface IInput {
    uri: string;
    version: ObjectVersion | null;
    kind: 'made' | 'raw' | 'withheld';
  }

  /** One object of the chain with the job that made it. */
  export interface IStep {
    uri: string;
    record: LineageRecord;
    inputs: IInput[];
  }

  export function uriOf(place: { tier: string; path: string }): string {
    return `${place.tier}:${place.path}`;
  }

  /**
   * Each record once, in the bridge's order (the object first, breadth
   * first), its inputs marked by whether the chain goes on from them.
   */
  export function steps(lineage: Lineage): IStep[] {
    const made = new Set(lineage.records.map(uriOf));
    const withheld = new Set(lineage.withheld.map(uriOf));
    return lineage.records.map(record => ({
      uri: uriOf(record),
      record,
      inputs: record.inputs.map(input => {
        const uri = uriOf(input);
        return {
          uri,
          version: input.version,
          kind: withheld.has(uri) ? 'withheld' : made.has(uri) ? 'made' : 'raw'
        };
      })
    }));
  }

  /** "12.0 KiB, modified 3/4/2025, 10:00:00, etag "abc"": what identified the content. */
  export function version(
    version: ObjectVersion | null,
    trans: TranslationBundle
  ): string {
    if (!version) {
      return '';
    }
    const parts: string[] = [];
    if (version.size !== null) {
      parts.push(StorageModel.formatBytes(version.size));
    }
    if (version.lastModified) {
      parts.push(
        trans.__('modified %1', new Date(version.lastModified).toLocaleString())
      );
    }
    if (version.etag) {
      parts.push(trans.__('etag %1', version.etag));
    }
    return parts.join(', ');
  }

  /**
   * "called endpoint llm-demo (tiny-random) 3 times, 412 tokens": one line per
   * endpoint the job declared (empty when it declared none).
   */
  export function calls(
    record: LineageRecord,
    trans: TranslationBundle
  ): string[] {
    return (record.job.calls ?? []).map(call => {
      const endpoint = call.model
        ? trans.__('%1 (%2)', call.endpoint, call.model)
        : call.endpoint;
      if (call.requests === 0) {
        return trans.__('declared endpoint %1, never called it', endpoint);
      }
      const tokens = call.promptTokens + call.completionTokens;
      return call.requests === 1
        ? trans.__('called endpoint %1 once, %2 tokens', endpoint, tokens)
        : trans.__(
            'called endpoint %1 %2 times, %3 tokens',
            endpoint,
            call.requests,
            tokens
          );
    });
  }

  /** "clean.ipynb, alpha=0.5, trigger_uri="project:…"": the job's notebook and parameters. */
  export function jobLabel(record: LineageRecord): string {
    const notebook = record.job.notebookPath.split('/').pop() ?? '';
    const parameters = Object.entries(record.job.parameters).map(
      ([name, value]) => `${name}=${JSON.stringify(value)}`
    );
    return [notebook, ...parameters].join(', ');
  }
}
