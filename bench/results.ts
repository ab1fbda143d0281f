/**
 * Structured results: every benchmark, besides printing, appends one JSON line per
 * measured metric to the file named by BENCH_RESULTS_FILE (bench/run sets it, then
 * renders bench/RESULTS.md from it with render-results.ts). Without the variable,
 * nothing is written.
 */
import { appendFileSync } from 'node:fs';

export interface IResultRow {
  /** The area: `clusters`, `jobs`, `gateway`, `storage`, `ui`. */
  bench: string;
  /** What was measured through the bridge (or the panel), e.g. `submit latency, median`. */
  metric: string;
  value: number;
  /** `ms`, `MiB/s`, `RPCs`, `tokens/s`, … */
  unit: string;
  /** What the value is compared with, measured in the same run. */
  baseline: string;
  baselineValue: number;
  /** value / baselineValue. */
  ratio: number;
  /** Which way is better, and anything a reader needs to read the row right. */
  note: string;
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
