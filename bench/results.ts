/**
 * Structured results: every benchmark, besides printing, appends one JSON line per
 * measured metric to the file named by BENCH_RESULTS_FILE (bench/run sets it, then
 * renders bench/RESULTS.md from it with render-results.ts). Without the variable,
 * nothing is written.
 */
import { appendFileSync } from 'node:fs';
import type { IComparison } from './stats';

export interface IResultRow {
  /** The area: `clusters`, `jobs`, `gateway`, `storage`, `ui`. */
  bench: string;
  /** What was measured through the bridge (or the panel), e.g. `submit latency, median`. */
  metric: string;
  /** The target's value; with `rounds`, the median over the rounds. */
  value: number;
  /** `ms`, `MiB/s`, `RPCs`, `tokens/s`, … */
  unit: string;
  /** What the value is compared with, measured in the same run. */
  baseline: string;
  /** The baseline's value; with `rounds`, the median over the rounds. */
  baselineValue: number;
  /** value / baselineValue. */
  ratio: number;
  /** Anything a reader needs to read the row right. */
  note: string;
  /** Which way is better. */
  better?: 'lower' | 'higher';
  /**
   * The target only relays to the baseline (the gateway to its llama-server, the proxy
   * to the bridge): it cannot beat it, and the rendered table flags a row that says it did.
   */
  passThrough?: boolean;
  /**
   * How many rounds alternated target and baseline (baseline first on even rounds,
   * target first on odd ones); absent where the row comes from a single measurement.
   */
  rounds?: number;
  /**
   * The range over the rounds, `min–max`: of the target's per-round values, the
   * baseline's, and the per-round ratios target[i] / baseline[i].
   */
  spread?: {
    kind: 'min-max';
    value: [number, number];
    baselineValue: [number, number];
    ratio: [number, number];
  };
}

export function record(
  row: Omit<IResultRow, 'ratio'> & { ratio?: number }
): void {
  const file = process.env.BENCH_RESULTS_FILE;
  if (!file) {
    return;
  }
  const full: IResultRow = {
    ...row,
    ratio: row.ratio ?? row.value / row.baselineValue
  };
  appendFileSync(file, `${JSON.stringify(full)}\n`);
}

/** A row from alternated rounds (stats.ts `compare`): medians, ranges, the round count. */
export function recordComparison(
  row: Omit<
    IResultRow,
    'value' | 'baselineValue' | 'ratio' | 'rounds' | 'spread' | 'better'
  > & { better: 'lower' | 'higher' },
  c: IComparison
): void {
  record({
    ...row,
    value: c.target.median,
    baselineValue: c.baseline.median,
    ratio: c.ratio,
    rounds: c.rounds,
    spread: {
      kind: 'min-max',
      value: [c.target.min, c.target.max],
      baselineValue: [c.baseline.min, c.baseline.max],
      ratio: [c.roundRatios.min, c.roundRatios.max]
    }
  });
}
