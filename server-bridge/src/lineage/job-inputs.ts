/**
 * A job's declared inputs expanded: `{date}` always, and `{element}` once per array
 * element (`project:ml101/data/part-{element}.csv` gives element i its own file), bounded;
 * each expanded input is looked up on its tier as the user (read access and version).
 */
import { MAX_SWEEP_ELEMENTS, parseTierUri, type JobSubmit } from '../contract';
import { DomainError } from '../domain-error';
import type { IStagedSource } from '../storage/staging';
import type { PlannedInput } from './repository/lineage';
import { dateValue, expandPlaceholders } from './uris';

/** The most inputs one job may have once `{element}` is expanded. */
export const MAX_EXPANDED_INPUTS = MAX_SWEEP_ELEMENTS;

/** How many inputs are looked up on their tiers at the same time. */
const LOOKUPS_AT_ONCE = 8;

/** One input after expansion: its declared index and, for `{element}`, its element. */
export interface IExpandedInput {
  uri: string;
  tier: string;
  path: string;
  /** `HPCB_INPUT_<index>`. */
  index: number;
  /** The element it belongs to; null when every element reads it. */
  element: number | null;
}

/** Each declared input for each element where it names `{element}`; 400 past the bound. */
export function expandInputs(
  inputs: JobSubmit['inputs'],
  elements: number,
  now: Date
): IExpandedInput[] {
  const date = dateValue(now);
  const declared = (inputs ?? []).map(uri => ({
    uri,
    parts: parseTierUri(uri)
  }));
  const perElement = declared.filter(d => d.parts.path.includes('{element}'));
  const total = declared.length + perElement.length * (elements - 1);
  if (total > MAX_EXPANDED_INPUTS) {
    throw new DomainError(
      'bad_request',
      `The inputs expand to ${total} files (${perElement.length} with {element} × ${elements} elements); at most ${MAX_EXPANDED_INPUTS} are allowed`,
      { inputs: total, max: MAX_EXPANDED_INPUTS }
    );
  }
  return declared.flatMap(({ uri, parts }, index): IExpandedInput[] =>
    parts.path.includes('{element}')
      ? Array.from({ length: elements }, (_, element) => ({
          uri,
          tier: parts.tier,
          path: expandPlaceholders(uri, parts.path, {
            date,
            element: String(element)
          }),
          index,
          element
        }))
      : [
          {
            uri,
            tier: parts.tier,
            path: expandPlaceholders(uri, parts.path, { date }),
            index,
            element: null
          }
        ]
  );
}

/** `fn` of each item, at most `limit` at a time, in the items' order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, worker)
  );
  return results;
}

/** Looks each expanded input up (`lookup` throws for one the user cannot read). */
export function lookUpInputs<R>(
  inputs: readonly IExpandedInput[],
  lookup: (input: IExpandedInput) => Promise<R>
): Promise<R[]> {
  return mapBounded(inputs, LOOKUPS_AT_ONCE, lookup);
}

export function plannedInput(
  input: IExpandedInput,
  source: IStagedSource,
  jobCluster: string
): PlannedInput {
  return {
    uri: input.uri,
    index: input.index,
    element: input.element,
    tier: source.tier,
    scopeKey: source.scopeKey,
    scopeRoot: source.scopeRoot,
    path: source.path,
    folder: source.folder,
    version: source.version,
    clusterPath:
      source.cluster !== null && source.cluster.name === jobCluster
        ? source.cluster.path
        : null
  };
}

/** The declared index of a planned input (plans stored before expansion: its position). */
export function inputIndex(input: PlannedInput, position: number): number {
  return input.index ?? position;
}

/** The inputs element `element` reads: those of every element, and its own. */
export function inputsOfElement(
  inputs: readonly PlannedInput[],
  element: number
): PlannedInput[] {
  return inputs.filter(
    i => i.element === undefined || i.element === null || i.element === element
  );
}
