/** Usage math of the admin dashboard: core-hours and GPU-hours inside a window. */
import {
  computeHours,
  overlapSeconds,
  runOf
} from '../../src/admin/compute-hours';
import type { JobElement } from '../../src/contract';
import { jobOf } from './admin-helpers';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3600_000;

function element(over: Partial<JobElement>): JobElement {
  return {
    index: 0,
    slurmId: '1',
    state: 'COMPLETED',
    reason: null,
    node: 'node1',
    exitCode: '0:0',
    elapsedSeconds: null,
    maxRssMB: null,
    progress: null,
    parameters: {},
    startedAt: null,
    endedAt: null,
    ...over
  };
}

const WIDE = { since: T0 - 24 * HOUR, until: T0 + 24 * HOUR };

describe('compute hours', () => {
  it('are elapsed time × cpus (and × gpus) summed over array elements', () => {
    const job = jobOf(
      [
        element({ startedAt: iso(T0), endedAt: iso(T0 + HOUR) }),
        element({
          index: 1,
          startedAt: iso(T0),
          endedAt: iso(T0 + 2 * HOUR)
        })
      ],
      4,
      2
    );
    expect(computeHours(job, WIDE, T0 + 48 * HOUR)).toEqual({
      coreHours: 12,
      gpuHours: 6
    });
  });

  it('count only the part of a run inside the window', () => {
    const job = jobOf(
      [element({ startedAt: iso(T0), endedAt: iso(T0 + 4 * HOUR) })],
      2,
      0
    );
    const window = { since: T0 + HOUR, until: T0 + 2 * HOUR };
    expect(computeHours(job, window, T0 + 48 * HOUR)).toEqual({
      coreHours: 2,
      gpuHours: 0
    });
    expect(
      computeHours(job, { since: T0 + 5 * HOUR, until: T0 + 6 * HOUR }, T0)
        .coreHours
    ).toBe(0);
  });

  it('count a running element from its start until now', () => {
    const job = jobOf(
      [element({ state: 'RUNNING', startedAt: iso(T0), endedAt: null })],
      3,
      1
    );
    expect(computeHours(job, WIDE, T0 + 2 * HOUR)).toEqual({
      coreHours: 6,
      gpuHours: 2
    });
  });

  it('count nothing for an element that never started', () => {
    const pending = element({ state: 'PENDING' });
    expect(runOf(pending, T0)).toBeNull();
    expect(computeHours(jobOf([pending], 8, 1), WIDE, T0)).toEqual({
      coreHours: 0,
      gpuHours: 0
    });
  });

  it('derive the start from the end and SLURM’s elapsed time when the start is unknown', () => {
    const e = element({ endedAt: iso(T0 + HOUR), elapsedSeconds: 1800 });
    expect(runOf(e, T0)).toEqual([T0 + HOUR / 2, T0 + HOUR]);
  });

  it('end a finished element after its elapsed time when its end is unknown', () => {
    const e = element({ startedAt: iso(T0), elapsedSeconds: 90 });
    expect(runOf(e, T0 + 10 * HOUR)).toEqual([T0, T0 + 90_000]);
    expect(runOf(element({ startedAt: iso(T0) }), T0 + HOUR)).toBeNull();
  });

  it('measure overlaps in seconds', () => {
    expect(overlapSeconds([0, 10_000], { since: 5_000, until: 20_000 })).toBe(
      5
    );
    expect(overlapSeconds([0, 10_000], { since: 10_000, until: 20_000 })).toBe(
      0
    );
  });
});
