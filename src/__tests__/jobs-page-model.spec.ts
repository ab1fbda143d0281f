/**
 * @jest-environment node
 */
import { type Job, JobSchema } from '@hpc-bridge/server/contract';
import { StateDB } from '@jupyterlab/statedb';
import { Signal } from '@lumino/signaling';
import { JobsPageModel } from '../jobs/JobsPageModel';
import { job } from './helpers';

/** The jobs a page model reads, changed by the test. */
class FakeSource implements JobsPageModel.ISource {
  constructor(public jobs: Job[]) {}
  readonly changed = new Signal<this, void>(this);
  set(jobs: Job[]): void {
    this.jobs = jobs;
    this.changed.emit();
  }
}

/** Job `n`: submitted `n` minutes after 10:00, named `run-n`. */
function numbered(n: number, overrides: Record<string, unknown> = {}): Job {
  const minute = String(n).padStart(2, '0');
  return JobSchema.parse(
    job({
      id: `j${n}`,
      name: `run-${minute}`,
      submittedAt: `2026-11-25T10:${minute}:00.000Z`,
      updatedAt: `2026-11-25T10:${minute}:30.000Z`,
      ...overrides
    })
  );
}

const ids = (jobs: readonly Job[]): string[] => jobs.map(j => j.id);

describe('JobsPageModel', () => {
  it('starts newest first, on the first page', () => {
    const model = new JobsPageModel({
      source: new FakeSource([numbered(1), numbered(3), numbered(2)])
    });
    expect(model.sort).toEqual({ key: 'submitted', direction: 'descending' });
    expect(ids(model.rows)).toEqual(['j3', 'j2', 'j1']);
    expect(model.page).toBe(0);
    expect(model.pageCount).toBe(1);
  });

  it('sorts by a new column A to Z, and flips on the same column', () => {
    const model = new JobsPageModel({
      source: new FakeSource([
        numbered(1, { name: 'beta' }),
        numbered(2, { name: 'Alpha' }),
        numbered(3, { name: 'gamma' })
      ])
    });
    model.sortBy('name');
    expect(model.sort).toEqual({ key: 'name', direction: 'ascending' });
    expect(model.rows.map(j => j.name)).toEqual(['Alpha', 'beta', 'gamma']);
    model.sortBy('name');
    expect(model.sort.direction).toBe('descending');
    expect(model.rows.map(j => j.name)).toEqual(['gamma', 'beta', 'Alpha']);
  });

  it('sorts by state, newest first within a state', () => {
    const model = new JobsPageModel({
      source: new FakeSource([
        numbered(1, { state: 'RUNNING' }),
        numbered(2, { state: 'COMPLETED' }),
        numbered(3, { state: 'RUNNING' })
      ])
    });
    model.sortBy('state');
    expect(ids(model.rows)).toEqual(['j2', 'j3', 'j1']);
  });

  it('filters by state, name and date', () => {
    const model = new JobsPageModel({
      source: new FakeSource([
        numbered(1, { state: 'COMPLETED', name: 'train' }),
        numbered(2, { state: 'FAILED', name: 'train-2' }),
        numbered(3, {
          state: 'COMPLETED',
          name: 'eval',
          submittedAt: '2026-11-20T10:00:00.000Z'
        })
      ])
    });
    model.filters = { state: 'COMPLETED' };
    expect(ids(model.rows)).toEqual(['j1', 'j3']);
    model.filters = { name: 'TRAIN' };
    expect(ids(model.rows)).toEqual(['j2', 'j1']);
    model.filters = { since: '2026-11-24' };
    expect(ids(model.rows)).toEqual(['j2', 'j1']);
    expect(model.total).toBe(3);
  });

  it('pages through the matching jobs and stays within the pages', () => {
    const jobs = Array.from({ length: 7 }, (_, i) => numbered(i + 1));
    const model = new JobsPageModel({
      source: new FakeSource(jobs),
      pageSize: 3
    });
    expect(model.pageCount).toBe(3);
    expect(ids(model.rows)).toEqual(['j7', 'j6', 'j5']);
    model.nextPage();
    expect(model.page).toBe(1);
    expect(ids(model.rows)).toEqual(['j4', 'j3', 'j2']);
    model.nextPage();
    model.nextPage();
    expect(model.page).toBe(2);
    expect(ids(model.rows)).toEqual(['j1']);
    model.page = -4;
    expect(model.page).toBe(0);
    model.previousPage();
    expect(model.page).toBe(0);
  });

  it('goes back to the first page when the sort or the filters change', () => {
    const jobs = Array.from({ length: 5 }, (_, i) => numbered(i + 1));
    const model = new JobsPageModel({
      source: new FakeSource(jobs),
      pageSize: 2
    });
    model.page = 2;
    model.sortBy('name');
    expect(model.page).toBe(0);
    model.page = 1;
    model.filters = { name: 'run' };
    expect(model.page).toBe(0);
  });

  it('follows the source live, keeping the page within bounds', () => {
    const source = new FakeSource(
      Array.from({ length: 4 }, (_, i) => numbered(i + 1))
    );
    const model = new JobsPageModel({ source, pageSize: 2 });
    const seen: number[] = [];
    model.changed.connect(() => seen.push(model.rows.length));
    model.page = 1;
    expect(ids(model.rows)).toEqual(['j2', 'j1']);
    source.set([numbered(9), ...source.jobs]);
    expect(ids(model.rows)).toEqual(['j3', 'j2']);
    source.set([numbered(1)]);
    expect(model.page).toBe(0);
    expect(ids(model.rows)).toEqual(['j1']);
    expect(seen.length).toBe(3);
  });

  it('stops following the source once disposed', () => {
    const source = new FakeSource([numbered(1)]);
    const model = new JobsPageModel({ source });
    let changes = 0;
    model.changed.connect(() => changes++);
    model.dispose();
    source.set([numbered(2)]);
    expect(changes).toBe(0);
    expect(model.isDisposed).toBe(true);
  });
});

describe('JobsPageModel: the remembered view', () => {
  const jobs = Array.from({ length: 7 }, (_, i) =>
    numbered(i + 1, { state: i % 2 === 0 ? 'COMPLETED' : 'FAILED' })
  );
  const saved = () => new Promise(resolve => setTimeout(resolve, 0));

  it('saves the sort, the filters and the page and restores them on a new page', async () => {
    const state = new StateDB();
    const first = new JobsPageModel({
      source: new FakeSource(jobs),
      pageSize: 2,
      state
    });
    first.filters = { state: 'COMPLETED', name: 'run' };
    first.sortBy('name');
    first.page = 1;
    await saved();
    first.dispose();

    const source = new FakeSource([]);
    const again = new JobsPageModel({ source, pageSize: 2, state });
    await again.restore();
    expect(again.sort).toEqual({ key: 'name', direction: 'ascending' });
    expect(again.filters).toEqual({ state: 'COMPLETED', name: 'run' });
    // The jobs arrive after the view: the saved page shows then.
    source.set(jobs);
    expect(again.page).toBe(1);
    expect(ids(again.rows)).toEqual(['j5', 'j7']);
  });

  it('keeps a change made before the saved view arrives', async () => {
    const state = new StateDB();
    await state.save(JobsPageModel.STATE_KEY, {
      sort: { key: 'name', direction: 'descending' },
      filters: { state: 'FAILED' },
      page: 0
    });
    const model = new JobsPageModel({ source: new FakeSource(jobs), state });
    const restored = model.restore();
    model.sortBy('cluster');
    await restored;
    expect(model.sort).toEqual({ key: 'cluster', direction: 'ascending' });
    expect(model.filters).toEqual({});
  });

  it('ignores a saved value of another shape', async () => {
    const state = new StateDB();
    await state.save(JobsPageModel.STATE_KEY, {
      sort: { key: 'size', direction: 'up' },
      filters: {},
      page: -1
    });
    const model = new JobsPageModel({ source: new FakeSource(jobs), state });
    await model.restore();
    expect(model.sort).toEqual({ key: 'submitted', direction: 'descending' });
    expect(model.page).toBe(0);
  });
});
