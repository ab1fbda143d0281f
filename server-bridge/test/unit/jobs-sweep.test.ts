import { MAX_SWEEP_ELEMENTS } from '../../src/contract';
import { expandSweep, SweepSizeError } from '../../src/jobs/sweep';
import { DomainError } from '../../src/domain-error';
import { statusOfError } from '../../src/errors';

describe('expandSweep', () => {
  it('is the base alone without a sweep', () => {
    const base = { alpha: 0.5, name: 'x' };
    const points = expandSweep(base);
    expect(points).toEqual([base]);
    expect(points[0]).not.toBe(base);
  });

  it('varies the last key fastest, in insertion order', () => {
    expect(expandSweep({}, { lr: [0.1, 0.01], seed: [1, 2, 3] })).toEqual([
      { lr: 0.1, seed: 1 },
      { lr: 0.1, seed: 2 },
      { lr: 0.1, seed: 3 },
      { lr: 0.01, seed: 1 },
      { lr: 0.01, seed: 2 },
      { lr: 0.01, seed: 3 }
    ]);
  });

  it('overrides base parameters with the sweep point', () => {
    expect(
      expandSweep(
        { name: 'run', lr: 1, tags: ['a'] },
        { lr: [0.1, 0.2], flag: [true, null] }
      )
    ).toEqual([
      { name: 'run', lr: 0.1, tags: ['a'], flag: true },
      { name: 'run', lr: 0.1, tags: ['a'], flag: null },
      { name: 'run', lr: 0.2, tags: ['a'], flag: true },
      { name: 'run', lr: 0.2, tags: ['a'], flag: null }
    ]);
  });

  it('allows exactly MAX_SWEEP_ELEMENTS and refuses one more', () => {
    const values = (n: number): number[] => [...Array(n).keys()];
    expect(expandSweep({}, { a: values(MAX_SWEEP_ELEMENTS) })).toHaveLength(
      MAX_SWEEP_ELEMENTS
    );
    const big = { a: values(MAX_SWEEP_ELEMENTS / 10), b: values(11) };
    expect(() => expandSweep({}, big)).toThrow(SweepSizeError);
    expect(() => expandSweep({}, big)).toThrow(/1100 combinations/);
    try {
      expandSweep({}, big);
    } catch (e) {
      expect(e).toMatchObject({ code: 'bad_request' });
      expect(statusOfError(e as DomainError)).toBe(400);
    }
  });

  it('refuses a product too large to build without building it', () => {
    const axis = Array(1000).fill(0);
    const sweep = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`p${i}`, axis])
    );
    expect(() => expandSweep({}, sweep)).toThrow(SweepSizeError);
  });

  it('refuses an empty axis', () => {
    expect(() => expandSweep({ a: 1 }, { b: [] })).toThrow(SweepSizeError);
  });
});
