/** Timing helpers shared by the benchmarks: sample a task, print ratios to a baseline. */
import { performance } from 'node:perf_hooks';

export interface ISample {
  median: number;
  p95: number;
}

export async function sample(
  rounds: number,
  task: () => Promise<void>
): Promise<ISample> {
  await task(); // warm-up: connections, caches, JIT
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await task();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return {
    median: times[Math.floor(times.length / 2)],
    p95: times[Math.min(times.length - 1, Math.floor(times.length * 0.95))]
  };
}

/** The first row is the baseline; every row prints its ratio to it. */
export function report(name: string, rows: [string, ISample][]): void {
  const [, baseline] = rows[0];
  process.stdout.write(`\n## ${name}\n`);
  for (const [label, s] of rows) {
    process.stdout.write(
      `${label.padEnd(48)} median ${s.median.toFixed(2).padStart(8)} ms  p95 ${s.p95
        .toFixed(2)
        .padStart(8)} ms  ratio ${(s.median / baseline.median).toFixed(2)}x\n`
    );
  }
}
