/** A parameter sweep: the grid of values becomes one SLURM array element per point. */
import { MAX_SWEEP_ELEMENTS, type Parameters, type Sweep } from '../contract';
import { DomainError } from '../domain-error';

/** A grid with no points or more than MAX_SWEEP_ELEMENTS (→ 400). */
export class SweepSizeError extends DomainError {
  constructor(readonly size: number) {
    super(
      'bad_request',
      `the sweep has ${size} combinations; 1 to ${MAX_SWEEP_ELEMENTS} are allowed`,
      { size, max: MAX_SWEEP_ELEMENTS }
    );
    this.name = 'SweepSizeError';
  }
}

/**
 * The parameters of every array element: `base` overridden by one point of the
 * cartesian product of `sweep`. Keys vary in insertion order, the last fastest.
 * Without a sweep, one element with `base`.
 */
export function expandSweep(base: Parameters, sweep?: Sweep): Parameters[] {
  const axes = Object.entries(sweep ?? {});
  const size = axes.reduce((n, [, values]) => n * values.length, 1);
  if (size < 1 || size > MAX_SWEEP_ELEMENTS) {
    throw new SweepSizeError(size);
  }
  let points: Parameters[] = [{ ...base }];
  for (const [name, values] of axes) {
    points = points.flatMap(p => values.map(v => ({ ...p, [name]: v })));
  }
  return points;
}
