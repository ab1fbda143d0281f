import {
  type JobSubmit,
  MAX_JOB_ENDPOINTS,
  placeholdersOf,
  TierUriSchema
} from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { FieldErrors } from './submitChecks';

/**
 * The declared data of a job in the submit form: the tier URIs it reads and
 * writes, as typed, the endpoints it calls, and the `inputs`/`outputs`/
 * `endpoints` of the request they make.
 */
export namespace JobData {
  export interface IOutputRow {
    uri: string;
    /** MiB the output is expected to write, as typed; '' for no estimate. */
    estimateMiB: string;
  }

  export interface IRows {
    inputs: string[];
    outputs: IOutputRow[];
    /** Names of the user's endpoints the job calls through the gateway. */
    endpoints?: string[];
  }

  export const EMPTY: IRows = { inputs: [], outputs: [], endpoints: [] };

  const MIB = 1024 * 1024;

  /**
   * The request's `inputs` and `outputs` (absent when empty; blank rows are
   * left out); problems go to `errors` as `input:i`, `output:i`, `estimate:i`.
   */
  export function request(
    rows: IRows,
    trans: TranslationBundle,
    errors: FieldErrors
  ): Pick<JobSubmit, 'inputs' | 'outputs' | 'endpoints'> {
    const inputs: string[] = [];
    rows.inputs.forEach((text, i) => {
      const uri = text.trim();
      if (!uri) {
        return;
      }
      const problem = uriProblem(uri, trans);
      if (problem) {
        errors[`input:${i}`] = problem;
      } else if (placeholdersOf(uri).some(name => name !== 'date')) {
        errors[`input:${i}`] = trans.__(
          'An input exists before the job: only {date} may be used.'
        );
      } else {
        inputs.push(uri);
      }
    });
    const outputs: NonNullable<JobSubmit['outputs']> = [];
    rows.outputs.forEach((row, i) => {
      const uri = row.uri.trim();
      if (!uri) {
        return;
      }
      const problem = uriProblem(uri, trans);
      const estimate = row.estimateMiB.trim();
      const mib = Number(estimate);
      if (problem) {
        errors[`output:${i}`] = problem;
      } else if (estimate && (!Number.isFinite(mib) || mib < 0)) {
        errors[`estimate:${i}`] = trans.__('A number of MiB, or nothing.');
      } else {
        outputs.push(
          estimate ? { uri, estimateBytes: Math.round(mib * MIB) } : uri
        );
      }
    });
    const endpoints = rows.endpoints ?? [];
    if (endpoints.length > MAX_JOB_ENDPOINTS) {
      errors['endpoints'] = trans.__(
        'A job may call at most %1 endpoints.',
        MAX_JOB_ENDPOINTS
      );
    }
    return {
      ...(inputs.length > 0 ? { inputs } : {}),
      ...(outputs.length > 0 ? { outputs } : {}),
      ...(endpoints.length > 0 ? { endpoints: [...endpoints] } : {})
    };
  }

  function uriProblem(uri: string, trans: TranslationBundle): string | null {
    const checked = TierUriSchema.safeParse(uri);
    return checked.success
      ? null
      : (checked.error.issues[0]?.message ?? trans.__('Not a tier URI.'));
  }

  /** The rows with row `index` of `kind` set to `uri` (a picked file or folder). */
  export function withUri(
    rows: IRows,
    kind: 'input' | 'output',
    index: number,
    uri: string
  ): IRows {
    return kind === 'input'
      ? { ...rows, inputs: rows.inputs.map((u, i) => (i === index ? uri : u)) }
      : {
          ...rows,
          outputs: rows.outputs.map((row, i) =>
            i === index ? { ...row, uri } : row
          )
        };
  }

  /** The tier a typed URI names (`scratch` of `scratch:data/a.csv`), or ''. */
  export function tierOf(uri: string): string {
    const match = /^([a-z][a-z0-9-]{0,31}):/.exec(uri.trim());
    return match ? match[1] : '';
  }

  /** The path inside the tier of a typed URI. */
  export function pathOf(uri: string): string {
    const tier = tierOf(uri);
    return tier ? uri.trim().slice(tier.length + 1) : '';
  }
}
