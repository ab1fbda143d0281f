/**
 * @jest-environment node
 */
import { StateDB } from '@jupyterlab/statedb';
import { SectionFolds } from '../ui/SectionFolds';

describe('SectionFolds', () => {
  it('folds and unfolds a section, announcing its id', () => {
    const folds = new SectionFolds();
    const changed: string[] = [];
    folds.changed.connect((_, id) => changed.push(id));

    folds.toggle('jobs');
    expect(folds.isFolded('jobs')).toBe(true);
    expect(folds.isFolded('storage')).toBe(false);
    folds.setFolded('jobs', true);
    folds.setFolded('jobs', false);

    expect(folds.isFolded('jobs')).toBe(false);
    expect(changed).toEqual(['jobs', 'jobs']);
  });

  it('remembers folded sections in the state database, keyed by section id', async () => {
    const state = new StateDB();
    const folds = new SectionFolds({ state });
    folds.setFolded('jobs', true);
    folds.setFolded('admin', true);
    folds.setFolded('admin', false);
    await new Promise(resolve => setTimeout(resolve, 0));

    expect(await state.fetch(SectionFolds.STATE_KEY)).toEqual({ jobs: true });

    const restored = new SectionFolds({ state });
    const changed: string[] = [];
    restored.changed.connect((_, id) => changed.push(id));
    await restored.restore();
    expect(restored.isFolded('jobs')).toBe(true);
    expect(restored.isFolded('admin')).toBe(false);
    expect(changed).toEqual(['jobs']);
  });

  it('ignores a saved value of another shape', () => {
    expect(SectionFolds.foldedIds(undefined)).toEqual([]);
    expect(SectionFolds.foldedIds(['jobs'])).toEqual([]);
    expect(SectionFolds.foldedIds({ jobs: true, cluster: false })).toEqual([
      'jobs'
    ]);
  });
});
