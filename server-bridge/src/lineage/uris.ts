/** Expanding the placeholders of a job's tier URIs. */
import { placeholdersOf, type TierUriPlaceholder } from '../contract';
import { DomainError } from '../domain-error';

export type PlaceholderValues = Partial<Record<TierUriPlaceholder, string>>;

/** `{date}` of a job: the UTC day it was submitted. */
export function dateValue(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** `path` with each placeholder replaced; 400 for one that has no value here. */
export function expandPlaceholders(
  uri: string,
  path: string,
  values: PlaceholderValues
): string {
  for (const name of placeholdersOf(path)) {
    if (values[name] === undefined) {
      throw new DomainError(
        'bad_request',
        `${uri}: {${name}} cannot be used here (an input exists before the job, so only {date} and {element} expand in inputs)`
      );
    }
  }
  return path.replace(
    /\{(job|element|date)\}/g,
    (_, name: TierUriPlaceholder) => values[name] ?? ''
  );
}
