/**
 * Timing helpers shared by the benchmarks: alternate a target and its baseline round by
 * round, summarise the rounds (median and min–max), print the comparison.
 *
 * Why alternate: on a shared machine the background load drifts over seconds. Measuring
 * all of the baseline, then all of the target, puts each side in a different stretch of
 * that drift, and the ratio measures the drift as much as the target (a pass-through
 * once "beat" its upstream that way). Alternating puts both sides of every round in the
 * same stretch; reversing the order on odd rounds cancels the advantage of going first
 * (or second: warm caches, a queue another side left behind).
 */
import { performance } from 'node:perf_hooks';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[mid]
    : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The value below which a share `q` of the samples lies (nearest rank). */
export function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

/** The median of some rounds and their range. */
export interface ISpread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: number[]): ISpread {
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values)
  };
}

/**
 * Runs `rounds` rounds over `sides` (the baseline first, then one or more targets): even
 * rounds in the given order, odd rounds in reverse. Each call measures its side once and
 * returns one value for the round. Returns the values per side, in round order:
 * `result[side][round]`.
 */
export async function alternateRounds<T>(
  rounds: number,
  sides: ((round: number) => Promise<T>)[]
): Promise<T[][]> {
  const values: T[][] = sides.map(() => []);
  for (let round = 0; round < rounds; round++) {
    const order = sides.map((_, i) => i);
    if (round % 2 === 1) {
      order.reverse();
    }
    for (const i of order) {
      values[i].push(await sides[i](round));
    }
  }
  return values;
}

/** One baseline, one target: `alternateRounds` for the common case. */
export async function alternate<T>(
  rounds: number,
  baseline: (round: number) => Promise<T>,
  target: (round: number) => Promise<T>
): Promise<{ baseline: T[]; target: T[] }> {
  const [b, t] = await alternateRounds(rounds, [baseline, target]);
  return { baseline: b, target: t };
}

/** Target and baseline per round, and what a row needs from them. */
export interface IComparison {
  target: ISpread;
  baseline: ISpread;
  /** median(target) / median(baseline). */
  ratio: number;
  /** The range of target[i] / baseline[i] over the rounds. */
  roundRatios: { min: number; max: number };
  rounds: number;
}

export function compare(target: number[], baseline: number[]): IComparison {
  const ratios = target.map((t, i) => t / baseline[i]);
  const t = spread(target);
  const b = spread(baseline);
  return {
    target: t,
    baseline: b,
    ratio: t.median / b.median,
    roundRatios: { min: Math.min(...ratios), max: Math.max(...ratios) },
    rounds: target.length
  };
}

/** The median of `count` timed calls of `task`, in ms. */
export async function medianMs(
  count: number,
  task: () => Promise<void>
): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await task();
    times.push(performance.now() - start);
  }
  return median(times);
}

const fixed = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));

/** Prints one comparison: both sides' medians with their min–max, and the ratios. */
export function report(
  name: string,
  labels: { target: string; baseline: string },
  c: IComparison,
  unit: string
): void {
  const side = (s: ISpread) =>
    `median ${fixed(s.median).padStart(8)} ${unit} (${fixed(s.min)}–${fixed(s.max)})`;
  process.stdout.write(
    `\n## ${name} (${c.rounds} alternated rounds; min–max in brackets)\n` +
      `${`${labels.baseline} (baseline)`.padEnd(48)} ${side(c.baseline)}\n` +
      `${labels.target.padEnd(48)} ${side(c.target)}\n` +
      `${'ratio'.padEnd(48)} ${c.ratio.toFixed(2)}x (per round ${c.roundRatios.min.toFixed(2)}–${c.roundRatios.max.toFixed(2)}x)\n`
  );
}
