/**
 * @jest-environment node
 */
import { drivePath, tierPathOf } from '../storage/paths';

describe('tier paths and drive paths', () => {
  it('turns a path of the tier drive into the path in the tier', () => {
    expect(tierPathOf('scratch', 'scratch:data/run1.csv')).toBe(
      'data/run1.csv'
    );
    expect(tierPathOf('scratch', 'scratch:/data//run1.csv')).toBe(
      'data/run1.csv'
    );
    expect(tierPathOf('scratch', 'scratch:')).toBe('');
    expect(tierPathOf('scratch', 'scratch:notes:v2.txt')).toBe('notes:v2.txt');
  });

  it('refuses a path of another drive or of the server', () => {
    expect(tierPathOf('scratch', 'archive:data/run1.csv')).toBeNull();
    expect(tierPathOf('scratch', 'scratch-old:data')).toBeNull();
    expect(tierPathOf('scratch', 'data/run1.csv')).toBeNull();
    // A colon further down the path names no drive.
    expect(tierPathOf('scratch', 'data/scratch:x')).toBeNull();
  });

  it('writes a path in the tier as its drive does, and back', () => {
    expect(drivePath('archive', '/week1/')).toBe('archive:week1');
    expect(drivePath('archive', '')).toBe('archive:');
    expect(tierPathOf('archive', drivePath('archive', 'a/b.csv'))).toBe(
      'a/b.csv'
    );
  });
});
