/**
 * One key's usage in one minute (a row of `endpoint_usage`, read and written by
 * `repository/usage.ts`) and its latency sample: a uniform reservoir of at most
 * LATENCY_SAMPLE values, merged by weight.
 */

/** Latencies kept per key and minute (a uniform reservoir sample). */
export const LATENCY_SAMPLE = 64;

/** Who spent the usage and on what, copied into each row. */
export interface ILabels {
  owner: string;
  endpointOwner: string;
  endpointName: string;
  keyName: string;
}

export interface IBucket extends ILabels {
  keyId: string;
  endpointId: string;
  minute: number;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  latencySum: number;
  /** How many latencies the sample was drawn from. */
  seen: number;
  sample: number[];
}

/** Adds one latency to a reservoir sample of at most LATENCY_SAMPLE values. */
export function addToSample(
  b: Pick<IBucket, 'seen' | 'sample'>,
  value: number,
  random: () => number
): void {
  b.seen += 1;
  if (b.sample.length < LATENCY_SAMPLE) {
    b.sample.push(value);
    return;
  }
  const j = Math.floor(random() * b.seen);
  if (j < LATENCY_SAMPLE) {
    b.sample[j] = value;
  }
}

/** Merges `b` into `a` (same key and minute); the samples are merged by weight. */
export function merge(a: IBucket, b: IBucket, random: () => number): IBucket {
  const sample =
    a.sample.length + b.sample.length <= LATENCY_SAMPLE
      ? [...a.sample, ...b.sample]
      : mergeSamples(a, b, random);
  return {
    ...a,
    requests: a.requests + b.requests,
    errors: a.errors + b.errors,
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    latencySum: a.latencySum + b.latencySum,
    seen: a.seen + b.seen,
    sample
  };
}

function mergeSamples(a: IBucket, b: IBucket, random: () => number): number[] {
  const pa = [...a.sample];
  const pb = [...b.sample];
  const out: number[] = [];
  while (out.length < LATENCY_SAMPLE && (pa.length > 0 || pb.length > 0)) {
    const fromA =
      pb.length === 0 ||
      (pa.length > 0 && random() * (a.seen + b.seen) < a.seen);
    const pool = fromA ? pa : pb;
    const i = Math.floor(random() * pool.length);
    out.push(pool[i] as number);
    pool.splice(i, 1);
  }
  return out;
}

/** The q-quantile (0..1) of `values` by nearest rank; null when empty. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) {
    return null;
  }
  const sorted = [...values].sort((x, y) => x - y);
  const rank = Math.min(
    sorted.length - 1,
    Math.max(0, Math.ceil(q * sorted.length) - 1)
  );
  return sorted[rank] as number;
}

export function round(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms * 10) / 10;
}
