import type * as contract from '@hpc-bridge/server/contract';
import {
  JobSubmitSchema,
  MAX_SWEEP_ELEMENTS
} from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  parseLiteral,
  parseSweepValues,
  sweepSize
} from '../notebook/parameters';

/** What is wrong with a submit form, by field (`cpus`, `param:x`, `sweep:y`, …). */
export type FieldErrors = Record<string, string>;

/** The typed resources within the profile's ranges; the others go to `errors`. */
export function checkedResources(
  texts: Readonly<Record<keyof contract.Resources, string>>,
  profile: contract.Profile | null,
  trans: TranslationBundle,
  errors: FieldErrors
): Partial<contract.Resources> {
  const resources: Partial<contract.Resources> = {};
  for (const key of Object.keys(texts) as (keyof contract.Resources)[]) {
    const text = texts[key].trim();
    const value = Number(text);
    if (!/^\d+$/.test(text)) {
      errors[key] = trans.__('A whole number.');
      continue;
    }
    const range = profile?.[key];
    if (range && (value < range.min || value > range.max)) {
      errors[key] = trans.__(
        'Between %1 and %2 for this profile.',
        range.min,
        range.max
      );
      continue;
    }
    resources[key] = value;
  }
  return resources;
}

/** The parameters that parse as Python literals; the others go to `errors`. */
export function checkedParameters(
  literals: Readonly<Record<string, string>>,
  trans: TranslationBundle,
  errors: FieldErrors
): contract.Parameters {
  const parameters: contract.Parameters = {};
  for (const [name, literal] of Object.entries(literals)) {
    const parsed = parseLiteral(literal);
    if (parsed.ok) {
      parameters[name] = parsed.value;
    } else {
      errors[`param:${name}`] = trans.__(
        'Not a Python literal: %1',
        parsed.error
      );
    }
  }
  return parameters;
}

/** The sweep's values per parameter, within the allowed number of elements. */
export function checkedSweep(
  texts: Readonly<Record<string, string>>,
  trans: TranslationBundle,
  errors: FieldErrors
): contract.Sweep | undefined {
  let sweep: contract.Sweep | undefined;
  for (const [name, text] of Object.entries(texts)) {
    const parsed = parseSweepValues(text);
    if (!parsed.ok) {
      errors[`sweep:${name}`] = parsed.error;
    } else if (parsed.values) {
      sweep = { ...(sweep ?? {}), [name]: parsed.values };
    }
  }
  if (sweepSize(sweep) > MAX_SWEEP_ELEMENTS) {
    errors['sweep'] = trans.__(
      'The sweep makes %1 jobs; at most %2 are allowed.',
      sweepSize(sweep),
      MAX_SWEEP_ELEMENTS
    );
  }
  return sweep;
}

/** What the contract's schema still finds wrong with a request the form accepted. */
export function schemaErrors(
  request: contract.JobSubmit,
  trans: TranslationBundle,
  errors: FieldErrors
): void {
  const checked = JobSubmitSchema.safeParse(request);
  if (checked.success) {
    return;
  }
  const fields = ['webhookUrl', 'notebook', 'tiers', 'inputs', 'outputs'];
  for (const issue of checked.error.issues) {
    const first = String(issue.path[0]);
    const key = fields.includes(first) ? first : 'request';
    errors[key] =
      key === 'webhookUrl'
        ? trans.__('An http(s) URL.')
        : `${issue.path.join('.')}: ${issue.message}`;
  }
}
