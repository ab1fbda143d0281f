import type * as contract from '@hpc-bridge/server/contract';
import { JobNameSchema } from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { IDisposable } from '@lumino/disposable';
import { Debouncer } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';
import {
  formatLiteral,
  notebookParameters,
  sanitizeJobName,
  sweepSize
} from '../notebook/parameters';
import type { IBridgeClient } from '../tokens';
import { TierChoice } from '../storage/TierChoice';
import { ClusterStates } from './clusterStates';
import { PartitionCompliance } from './compliance';
import { EndpointsApi, type IEndpointsApi } from '../endpoints/api';
import { JobEndpointChoice } from './endpointChoice';
import { JobData } from './jobData';
import {
  checkedParameters,
  checkedResources,
  checkedSweep,
  schemaErrors
} from './submitChecks';

/**
 * The state of the Submit to cluster form: profiles, resources within the
 * profile's ranges, job name, parameters, sweep, storage tiers, webhook; the expected start
 * (debounced `POST /jobs/estimate`) and the submission itself.
 */
export class SubmitModel implements IDisposable {
  constructor(options: SubmitModel.IOptions) {
    this._client = options.client;
    this._trans = options.trans;
    this._submit = options.submit;
    this._notebook = options.notebook;
    this._cells = options.cells;
    this._name = sanitizeJobName(options.notebook.path);
    const values = notebookParameters(options.notebook.content.cells);
    for (const [name, value] of Object.entries(values)) {
      this._parameters[name] = formatLiteral(value);
      this._sweep[name] = '';
    }
    this._estimator = new Debouncer(
      () => this._estimate(),
      options.estimateDelay ?? 600
    );
    this.endpoints = new JobEndpointChoice(
      options.endpoints ?? new EndpointsApi(options.client)
    );
    this.endpoints.changed.connect(() => this._changed.emit());
    this.clusters = new ClusterStates(options.client);
    this.clusters.changed.connect(() => this._changed.emit());
    if (options.auto ?? true) {
      void this.loadProfiles();
      void this.clusters.load();
      void this.loadTiers();
      void this.endpoints.load();
    }
  }

  /** The user's endpoints the job may declare it calls. */
  readonly endpoints: JobEndpointChoice;

  /** Which clusters are down: their profiles say so. */
  readonly clusters: ClusterStates;

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get notebookPath(): string {
    return this._notebook.path;
  }

  /** The cells of a cell job, or `undefined` for the whole notebook. */
  get cells(): readonly number[] | undefined {
    return this._cells;
  }

  get profiles(): readonly contract.Profile[] {
    return this._profiles;
  }

  get profilesError(): Error | null {
    return this._profilesError;
  }

  get loadingProfiles(): boolean {
    return this._loadingProfiles;
  }

  get profile(): contract.Profile | null {
    return this._profiles.find(p => p.name === this._profile) ?? null;
  }

  get name(): string {
    return this._name;
  }

  /** Resource fields as typed (strings), by resource. */
  get resources(): Readonly<Record<SubmitModel.Resource, string>> {
    return this._resources;
  }

  /** Parameter fields: Python literals as typed. */
  get parameters(): Readonly<Record<string, string>> {
    return this._parameters;
  }

  /** Sweep fields: comma-separated values per parameter. */
  get sweep(): Readonly<Record<string, string>> {
    return this._sweep;
  }

  get webhookUrl(): string {
    return this._webhookUrl;
  }

  /** The tier URIs the job reads and writes, as typed. */
  get data(): JobData.IRows {
    return this._data;
  }

  /** The storage tiers the user may give the job (`tier` or `tier:group` each). */
  get tierOptions(): readonly TierChoice.IOption[] {
    return this._tierOptions;
  }

  /** The chosen tiers, in the options' order. */
  get tiers(): readonly string[] {
    return this._tiers;
  }

  get loadingTiers(): boolean {
    return this._loadingTiers;
  }

  /** Why the tiers could not be listed (the job can still be submitted without). */
  get tiersError(): Error | null {
    return this._tiersError;
  }

  /** The chosen tiers of class `sensitive`: the job must run on a compliant partition. */
  get sensitiveTiers(): readonly TierChoice.IOption[] {
    return TierChoice.sensitive(this._tierOptions, this._tiers);
  }

  /** Why the bridge will refuse the chosen tiers on this profile (learnt from its refusals). */
  get refusal(): PartitionCompliance.IRefusal | null {
    const profile = this.profile;
    return profile && this.sensitiveTiers.length > 0
      ? this._compliance.refusal(this._trans, profile, this._profiles)
      : null;
  }

  /** Whether Submit may be pressed: the form is valid and no refusal is known. */
  get canSubmit(): boolean {
    return this.valid && this.refusal === null && !this._submitting;
  }

  /** The resources the chosen profile lets the user set (GPUs only where it allows some). */
  get shownResources(): readonly SubmitModel.Resource[] {
    const profile = this.profile;
    return SubmitModel.RESOURCES.filter(
      key => key !== 'gpus' || (profile !== null && profile.gpus.max > 0)
    );
  }

  /** How many array elements the sweep makes (1: no array). */
  get sweepElements(): number {
    return sweepSize(this._build().sweep);
  }

  /** Problems per field (`name`, `profile`, `timeMinutes`, `param:x`, `sweep:x`, `input:i`, `output:i`, `webhookUrl`, `request`). */
  get errors(): Readonly<Record<string, string>> {
    return this._build().errors;
  }

  get valid(): boolean {
    return Object.keys(this.errors).length === 0 && this.profile !== null;
  }

  get estimate(): SubmitModel.IEstimateState {
    return this._estimateState;
  }

  /** The error of the last submission (from the bridge), or `null`. */
  get submitError(): Error | null {
    return this._submitError;
  }

  get submitting(): boolean {
    return this._submitting;
  }

  /** The submitted job, once submitted. */
  get submitted(): contract.Job | null {
    return this._submitted;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  async loadProfiles(): Promise<void> {
    this._loadingProfiles = true;
    this._changed.emit();
    try {
      const list = await this._client.profiles();
      if (this._disposed) {
        return;
      }
      this._profiles = list.profiles;
      this._profilesError = null;
      if (!this.profile && list.profiles.length > 0) {
        this.setProfile(list.profiles[0].name);
      }
    } catch (error) {
      this._profilesError =
        error instanceof Error ? error : new Error(String(error));
    } finally {
      this._loadingProfiles = false;
      this._update(false);
    }
  }

  async loadTiers(): Promise<void> {
    this._loadingTiers = true;
    this._changed.emit();
    try {
      const tiers = await TierChoice.load(this._client);
      if (this._disposed) {
        return;
      }
      this._tierOptions = TierChoice.options(tiers);
      this._tiers = this._tiers.filter(ref =>
        this._tierOptions.some(o => o.ref === ref)
      );
      this._tiersError = null;
    } catch (error) {
      this._tiersError =
        error instanceof Error ? error : new Error(String(error));
    } finally {
      this._loadingTiers = false;
      this._update(false);
    }
  }

  /** Choose the storage tiers (refs of `tierOptions`). */
  setTiers(refs: readonly string[]): void {
    this._tiers = this._tierOptions
      .map(o => o.ref)
      .filter(ref => refs.includes(ref));
    this._update();
  }

  setProfile(name: string): void {
    this._profile = name;
    const profile = this.profile;
    if (profile) {
      this._resources = {
        timeMinutes: String(profile.timeMinutes.default),
        cpus: String(profile.cpus.default),
        memoryMB: String(profile.memoryMB.default),
        gpus: String(profile.gpus.default)
      };
    }
    this._update();
  }

  setResource(resource: SubmitModel.Resource, value: string): void {
    this._resources = { ...this._resources, [resource]: value };
    this._update();
  }

  setName(name: string): void {
    this._name = name;
    this._update();
  }

  setParameter(name: string, literal: string): void {
    this._parameters = { ...this._parameters, [name]: literal };
    this._update();
  }

  setSweep(name: string, values: string): void {
    this._sweep = { ...this._sweep, [name]: values };
    this._update();
  }

  setWebhookUrl(url: string): void {
    this._webhookUrl = url;
    this._update();
  }

  setData(rows: JobData.IRows): void {
    this._data = rows;
    this._update();
  }

  /** The request the form describes, or `null` while it has errors. */
  request(): contract.JobSubmit | null {
    const built = this._build();
    return Object.keys(built.errors).length === 0 ? built.request : null;
  }

  /**
   * Submit; resolves with the job, or with `null` when the form is invalid or
   * the bridge refused (then `submitError` says why).
   */
  async submit(): Promise<contract.Job | null> {
    const request = this.request();
    if (!request || this._submitting || this.refusal !== null) {
      this._changed.emit();
      return null;
    }
    this._submitting = true;
    this._submitError = null;
    this._changed.emit();
    try {
      this._submitted = await this._submit(request);
      return this._submitted;
    } catch (error) {
      this._submitError =
        error instanceof Error ? error : new Error(String(error));
      this._compliance.learn(this._profiles, request.profile, error);
      return null;
    } finally {
      this._submitting = false;
      if (!this._disposed) {
        this._changed.emit();
      }
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._estimator.dispose();
    Signal.clearData(this.endpoints);
    Signal.clearData(this);
  }

  private _update(estimate = true): void {
    if (this._disposed) {
      return;
    }
    this._submitError = null;
    this._changed.emit();
    if (estimate) {
      void this._estimator.invoke();
    }
  }

  private async _estimate(): Promise<void> {
    const request = this.request();
    if (!request || this._disposed) {
      this._estimateState = { loading: false, result: null, error: null };
      this._changed.emit();
      return;
    }
    const serial = ++this._estimateSerial;
    this._estimateState = { ...this._estimateState, loading: true };
    this._changed.emit();
    try {
      const result = await this._client.estimate(request);
      if (serial === this._estimateSerial && !this._disposed) {
        this._estimateState = { loading: false, result, error: null };
      }
    } catch (error) {
      this._compliance.learn(this._profiles, request.profile, error);
      if (serial === this._estimateSerial && !this._disposed) {
        this._estimateState = {
          loading: false,
          result: null,
          error: error instanceof Error ? error : new Error(String(error))
        };
      }
    }
    if (!this._disposed) {
      this._changed.emit();
    }
  }

  /** Build the request and find what is wrong with it. */
  private _build(): {
    request: contract.JobSubmit;
    errors: Record<string, string>;
    sweep: contract.Sweep | undefined;
  } {
    const trans = this._trans;
    const errors: Record<string, string> = {};
    const profile = this.profile;
    if (!profile) {
      errors['profile'] = trans.__('Choose a profile.');
    }
    if (!JobNameSchema.safeParse(this._name).success) {
      errors['name'] = trans.__(
        'Letters, digits, ".", "_" and "-" only; at most 64, starting with a letter or digit.'
      );
    }
    const resources = checkedResources(this._resources, profile, trans, errors);
    const parameters = checkedParameters(this._parameters, trans, errors);
    const sweep = checkedSweep(this._sweep, trans, errors);
    const webhookUrl = this._webhookUrl.trim();
    const request: contract.JobSubmit = {
      name: this._name,
      notebook: this._notebook,
      profile: profile?.name ?? '',
      resources,
      ...(this._cells ? { cells: [...this._cells] } : {}),
      ...(Object.keys(parameters).length > 0 ? { parameters } : {}),
      ...(sweep ? { sweep } : {}),
      ...TierChoice.request(this._tiers),
      ...JobData.request(this._data, trans, errors),
      ...(webhookUrl ? { webhookUrl } : {})
    };
    if (Object.keys(errors).length === 0) {
      schemaErrors(request, trans, errors);
    }
    return { request, errors, sweep };
  }

  private readonly _client: IBridgeClient;
  private readonly _trans: TranslationBundle;
  private readonly _submit: SubmitModel.IOptions['submit'];
  private readonly _notebook: contract.JobSubmit['notebook'];
  private readonly _cells: number[] | undefined;
  private readonly _estimator: Debouncer;
  private _disposed = false;
  private _profiles: readonly contract.Profile[] = [];
  private _profilesError: Error | null = null;
  private _loadingProfiles = false;
  private _profile = '';
  private _name: string;
  private _resources: Record<SubmitModel.Resource, string> = {
    timeMinutes: '',
    cpus: '',
    memoryMB: '',
    gpus: ''
  };
  private _parameters: Record<string, string> = {};
  private _sweep: Record<string, string> = {};
  private _webhookUrl = '';
  private _data: JobData.IRows = JobData.EMPTY;
  private _tierOptions: TierChoice.IOption[] = [];
  private _tiers: string[] = [];
  private _loadingTiers = false;
  private _tiersError: Error | null = null;
  private _estimateState: SubmitModel.IEstimateState = {
    loading: false,
    result: null,
    error: null
  };
  private _estimateSerial = 0;
  private readonly _compliance = new PartitionCompliance();
  private _submitting = false;
  private _submitError: Error | null = null;
  private _submitted: contract.Job | null = null;
  private readonly _changed = new Signal<this, void>(this);
}

export namespace SubmitModel {
  export type Resource = keyof contract.Resources;
  export const RESOURCES: readonly Resource[] = [
    'timeMinutes',
    'cpus',
    'memoryMB',
    'gpus'
  ];

  export interface IEstimateState {
    loading: boolean;
    result: contract.JobEstimate | null;
    error: Error | null;
  }

  export interface IOptions {
    client: IBridgeClient;
    trans: TranslationBundle;
    /** The notebook as saved, with its contents path. */
    notebook: contract.JobSubmit['notebook'];
    /** Cells of a cell job (setup + selection). */
    cells?: number[];
    /** Sends the request (e.g. `JobsModel.submit`). */
    submit: (request: contract.JobSubmit) => Promise<contract.Job>;
    /** Milliseconds between the last change and the estimate. */
    estimateDelay?: number;
    /** Load the profiles, clusters, tiers and endpoints at once (default `true`). */
    auto?: boolean;
    /** Lists the user's endpoints (default: the bridge's endpoint routes). */
    endpoints?: Pick<IEndpointsApi, 'list' | 'whoami'>;
  }
}
