import {
  type Endpoint,
  type JobState,
  type NotebookContent,
  type Profile,
  type Tier,
  type TriggerAction,
  type TriggerCreate,
  TriggerCreateSchema,
  type TriggerSource
} from '@hpc-bridge/server/contract';
import { sanitizeJobName } from '../notebook/parameters';
import { normalizePath } from '../storage/paths';

/**
 * The new trigger dialog's fields: their starting values, the request they
 * make, and which field an error of the contract or the bridge names.
 */
export namespace TriggerForm {
  export type EventKind = 'object.created' | 'job.ended' | 'schedule';
  export type ActionKind = 'submit' | 'copy' | 'roll-endpoint';

  /** The dialog's fields, as typed. */
  export interface IForm {
    name: string;
    event: EventKind;
    /** A file lands: the tier, the folder inside it, an optional glob. */
    watchTier: string;
    watchPath: string;
    match: string;
    /** A job ends: in one of these states, optionally a job of trigger `fromTrigger`. */
    states: JobState[];
    fromTrigger: string;
    /** On a schedule: five cron fields (UTC). */
    cron: string;
    action: ActionKind;
    /** Run a notebook: '' for the Jupyter files, else the tier it is in. */
    notebookTier: string;
    notebookPath: string;
    profile: string;
    /** The output URI (`archive:results/{job}/`); '' for none. */
    output: string;
    /** The parameter that receives the event (an object's URI, a job's id). */
    parameter: string;
    /** Copy to a tier folder. */
    copyTier: string;
    copyPath: string;
    /** Roll an endpoint to the model of the ended job's output `outputIndex`. */
    endpoint: string;
    outputIndex: number;
    maxConcurrent: number;
    maxPerHour: number;
  }

  /** A field an error can be shown next to; `form` for the others. */
  export type Field = keyof IForm | 'form';
  export type FieldErrors = Partial<Record<Field, string>>;

  /** What the dialog offers. */
  export interface IContext {
    tiers: readonly Tier[];
    profiles: readonly Profile[];
    /** The user's own endpoints. */
    endpoints: readonly Endpoint[];
    /** The user's triggers (a job-ended trigger may follow one of them). */
    triggers: ReadonlyArray<{ id: string; name: string }>;
  }

  export const DEFAULT_LIMITS = { maxConcurrent: 2, maxPerHour: 20 };
  export const DEFAULT_PARAMETER = 'trigger_uri';
  export const DEFAULT_CRON = '0 2 * * *';

  /** The states a job-ended trigger may wait for, in the order offered. */
  export const END_STATES: readonly JobState[] = [
    'COMPLETED',
    'FAILED',
    'TIMEOUT',
    'CANCELLED',
    'OUT_OF_MEMORY'
  ];

  /** Stands in for the notebook's content until it has been read. */
  const EMPTY_NOTEBOOK: NotebookContent = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: []
  };

  /** The values the dialog starts with. */
  export function defaults(context: IContext): IForm {
    const writable = context.tiers.filter(tier => tier.access === 'write');
    const watch = context.tiers[0];
    return {
      name: '',
      event: 'object.created',
      watchTier: watch?.name ?? '',
      watchPath: watch?.groups?.[0] ?? '',
      match: '',
      states: ['COMPLETED'],
      fromTrigger: '',
      cron: DEFAULT_CRON,
      action: 'submit',
      notebookTier: '',
      notebookPath: '',
      profile: context.profiles[0]?.name ?? '',
      output: defaultOutput(context.tiers),
      parameter: DEFAULT_PARAMETER,
      copyTier: writable[0]?.name ?? '',
      copyPath: writable[0]?.groups?.[0] ?? '',
      endpoint: context.endpoints[0]?.id ?? '',
      outputIndex: 0,
      ...DEFAULT_LIMITS
    };
  }

  /** `archive:results/{job}/` in the first archive tier the user may write; '' without one. */
  export function defaultOutput(tiers: readonly Tier[]): string {
    const archive = tiers.find(
      tier => tier.class === 'archive' && tier.access === 'write'
    );
    if (!archive) {
      return '';
    }
    const group = archive.groups?.[0];
    if (archive.groups !== null && group === undefined) {
      return '';
    }
    return `${archive.name}:${group ? `${group}/` : ''}results/{job}/`;
  }

  /** A folder of a tier as a URI: `project:ml101/incoming/`. */
  export function folderUri(tier: string, path: string): string {
    const inside = normalizePath(path);
    return inside ? `${tier}:${inside}/` : `${tier}:`;
  }

  /** Where the contents manager finds the notebook (`scratch:nb/clean.ipynb` in a tier). */
  export function notebookContentsPath(form: IForm): string {
    const path = normalizePath(form.notebookPath);
    return form.notebookTier ? `${form.notebookTier}:${path}` : path;
  }

  /** The trigger the form describes; `notebook` is the content read for a submit action. */
  export function createRequest(
    form: IForm,
    notebook: NotebookContent | null
  ): TriggerCreate {
    return {
      name: form.name.trim(),
      source: source(form),
      action: action(form, notebook),
      limits: {
        maxConcurrent: form.maxConcurrent,
        maxPerHour: form.maxPerHour
      }
    };
  }

  function source(form: IForm): TriggerSource {
    switch (form.event) {
      case 'object.created':
        return {
          kind: 'object.created',
          prefix: folderUri(form.watchTier, form.watchPath),
          ...(form.match.trim() ? { match: form.match.trim() } : {})
        };
      case 'job.ended':
        return {
          kind: 'job.ended',
          states: [...form.states],
          ...(form.fromTrigger ? { trigger: form.fromTrigger } : {})
        };
      case 'schedule':
        return { kind: 'schedule', cron: form.cron.trim() };
    }
  }

  function action(
    form: IForm,
    notebook: NotebookContent | null
  ): TriggerAction {
    switch (form.action) {
      case 'submit': {
        const path = normalizePath(form.notebookPath);
        const output = form.output.trim();
        return {
          kind: 'submit',
          parameter: form.parameter.trim() || DEFAULT_PARAMETER,
          job: {
            name: sanitizeJobName(path),
            notebook: { path, content: notebook ?? EMPTY_NOTEBOOK },
            profile: form.profile,
            ...(output ? { outputs: [output] } : {})
          }
        };
      }
      case 'copy':
        return { kind: 'copy', to: folderUri(form.copyTier, form.copyPath) };
      case 'roll-endpoint':
        return {
          kind: 'roll-endpoint',
          endpoint: form.endpoint,
          output: form.outputIndex
        };
    }
  }

  /** What the contract finds wrong with a request, by field. */
  export function check(request: TriggerCreate): FieldErrors {
    const checked = TriggerCreateSchema.safeParse(request);
    const errors: FieldErrors = {};
    if (checked.success) {
      return errors;
    }
    for (const issue of checked.error.issues) {
      const field = fieldOf(issue.path);
      errors[field] ??= issue.message;
    }
    return errors;
  }

  /** Where the contract's fields are in the dialog. */
  const FIELDS: ReadonlyArray<[string, Field]> = [
    ['name', 'name'],
    ['source.prefix', 'watchPath'],
    ['source.match', 'match'],
    ['source.states', 'states'],
    ['source.trigger', 'fromTrigger'],
    ['source.cron', 'cron'],
    ['action.job.notebook', 'notebookPath'],
    ['action.job.name', 'notebookPath'],
    ['action.job.profile', 'profile'],
    ['action.job.resources', 'profile'],
    ['action.job.outputs', 'output'],
    ['action.parameter', 'parameter'],
    ['action.to', 'copyPath'],
    ['action.endpoint', 'endpoint'],
    ['action.output', 'outputIndex'],
    ['limits.maxConcurrent', 'maxConcurrent'],
    ['limits.maxPerHour', 'maxPerHour']
  ];

  /**
   * The field of a path into the request: `['source', 'prefix']`,
   * `/source/prefix` (the bridge's validation details) or `source.prefix`.
   */
  export function fieldOf(path: readonly PropertyKey[] | string): Field {
    const parts =
      typeof path === 'string'
        ? path.split(/[/.]/).filter(Boolean)
        : path.map(String);
    const dotted = parts.join('.');
    const found = FIELDS.find(
      ([prefix]) => dotted === prefix || dotted.startsWith(`${prefix}.`)
    );
    return found ? found[1] : 'form';
  }

  /**
   * The bridge's refusal next to the fields it names: the paths of its
   * validation details, a `field` in its details, or the URI its sentence
   * starts with; the sentence itself above the form when no field is named.
   */
  export function bridgeErrors(error: unknown, form: IForm): FieldErrors {
    const message = error instanceof Error ? error.message : String(error);
    const details = detailsOf(error);
    const errors: FieldErrors = {};
    if (Array.isArray(details)) {
      for (const detail of details) {
        if (isRecord(detail) && typeof detail['path'] === 'string') {
          const field = fieldOf(detail['path']);
          errors[field] ??= String(detail['message'] ?? message);
        }
      }
    } else if (isRecord(details) && typeof details['field'] === 'string') {
      errors[fieldOf(details['field'])] = message;
    } else {
      const field = fieldOfUri(message, form);
      if (field) {
        errors[field] = message;
      }
    }
    if (Object.keys(errors).length === 0) {
      errors.form = message;
    }
    return errors;
  }

  /** The field whose URI a sentence of the bridge starts with. */
  function fieldOfUri(message: string, form: IForm): Field | null {
    const uris: Array<[string, Field]> = [
      [folderUri(form.watchTier, form.watchPath), 'watchPath'],
      [form.output.trim(), 'output'],
      [folderUri(form.copyTier, form.copyPath), 'copyPath'],
      [notebookContentsPath(form), 'notebookPath']
    ];
    const found = uris.find(
      ([uri]) => uri !== '' && message.startsWith(`${uri}:`)
    );
    return found ? found[1] : null;
  }

  function detailsOf(error: unknown): unknown {
    if (!isRecord(error) || !isRecord(error['body'])) {
      return undefined;
    }
    const body = error['body']['error'];
    return isRecord(body) ? body['details'] : undefined;
  }

  function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null;
  }
}
