/**
 * @jest-environment node
 */
import type { Job, Whoami } from '@hpc-bridge/server/contract';
import { JobsModel } from '../jobs/JobsModel';
import { waitFor } from './helpers';
import { asClient, FakeClient, parsedJob } from './jobs-fakes';

describe('JobsModel', () => {
  const models: JobsModel[] = [];
  afterEach(() => models.splice(0).forEach(model => model.dispose()));

  function create(fake: FakeClient, auto = true): JobsModel {
    const model = new JobsModel({
      client: asClient(fake),
      pollInterval: 3600_000,
      auto
    });
    models.push(model);
    return model;
  }

  it('loads the list, then follows events and announces ends once', async () => {
    const fake = new FakeClient();
    fake.lists = [[parsedJob()]];
    const model = create(fake);
    await waitFor(() => !model.loading);
    expect(model.jobs.map(j => j.state)).toEqual(['RUNNING']);

    const ended: Job[] = [];
    model.jobEnded.connect((_, j) => ended.push(j));
    fake.stream.setState('open');
    expect(model.live).toBe(true);
    const done = parsedJob({
      state: 'COMPLETED',
      updatedAt: '2026-11-25T10:02:00.000Z'
    });
    fake.stream.received.emit({ type: 'job', job: done });
    fake.stream.received.emit({ type: 'job', job: done });
    // An older version arriving late does not go back.
    fake.stream.received.emit({ type: 'job', job: parsedJob() });
    expect(model.jobs[0].state).toBe('COMPLETED');
    expect(ended.map(j => j.id)).toEqual(['j1']);
  });

  it('does not announce jobs that had ended before it started', async () => {
    const fake = new FakeClient();
    fake.lists = [[parsedJob({ state: 'FAILED' })]];
    const model = create(fake);
    const ended: Job[] = [];
    model.jobEnded.connect((_, j) => ended.push(j));
    await waitFor(() => !model.loading);
    expect(ended).toEqual([]);
  });

  it('falls back to polling when the stream drops', async () => {
    const fake = new FakeClient();
    fake.lists = [
      [parsedJob()],
      [
        parsedJob({
          state: 'COMPLETED',
          updatedAt: '2026-11-25T10:03:00.000Z'
        })
      ]
    ];
    const model = create(fake);
    await waitFor(() => !model.loading);
    const ended: string[] = [];
    model.jobEnded.connect((_, j) => ended.push(j.state));
    fake.stream.setState('connecting');
    await waitFor(() => ended.length === 1);
    expect(fake.calls.filter(c => c === 'list').length).toBeGreaterThan(1);
    expect(model.live).toBe(false);
  });

  it('filters by state, name and date', async () => {
    const fake = new FakeClient();
    fake.lists = [
      [
        parsedJob({ id: 'a', name: 'Sweep-lr' }),
        parsedJob({
          id: 'b',
          name: 'analysis',
          state: 'FAILED',
          submittedAt: '2026-11-20T10:00:00.000Z'
        })
      ]
    ];
    const model = create(fake);
    await waitFor(() => !model.loading);
    model.filters = { name: 'sweep' };
    expect(model.filtered.map(j => j.id)).toEqual(['a']);
    model.filters = { state: 'FAILED' };
    expect(model.filtered.map(j => j.id)).toEqual(['b']);
    model.filters = { since: '2026-11-24' };
    expect(model.filtered.map(j => j.id)).toEqual(['a']);
  });

  it('shows a long list a page at a time, newest first, from the first page again after a filter', async () => {
    const fake = new FakeClient();
    const minute = (i: number) =>
      new Date(Date.UTC(2026, 10, 20) + i * 60_000).toISOString();
    const count = JobsModel.PAGE_SIZE * 2 + 50;
    fake.lists = [
      Array.from({ length: count }, (_, i) =>
        parsedJob({
          id: `j${i}`,
          name: i % 2 === 0 ? 'even' : 'odd',
          submittedAt: minute(i)
        })
      )
    ];
    const model = create(fake);
    await waitFor(() => !model.loading);
    expect(model.jobs).toHaveLength(count);
    expect(model.shown).toHaveLength(JobsModel.PAGE_SIZE);
    expect(model.shown[0]?.id).toBe(`j${count - 1}`);
    model.showMore();
    model.showMore();
    expect(model.shown).toHaveLength(count);
    model.filters = { name: 'even' };
    expect(model.shown).toHaveLength(JobsModel.PAGE_SIZE);
    expect(model.shown.every(j => j.name === 'even')).toBe(true);
    expect(model.filtered).toHaveLength(count / 2);
  });

  it('acts on jobs and keeps the error of a refused action', async () => {
    const fake = new FakeClient();
    fake.lists = [[parsedJob()]];
    const model = create(fake);
    await waitFor(() => !model.loading);
    await model.act('j1', 'cancel');
    expect(model.jobs.find(j => j.id === 'j1')?.state).toBe('CANCELLED');
    await expect(model.act('j1', 'hold')).rejects.toThrow('denied');
    expect(model.actionError?.message).toContain('denied');
    const copy = await model.act('j1', 'resubmit');
    expect(copy.resubmittedFrom).toBe('j1');
    expect(model.selectedId).toBe('j2');
    expect(model.busy.size).toBe(0);
  });

  it('offers the actions that fit the state', () => {
    expect(JobsModel.actions(parsedJob({ state: 'RUNNING' }))).toEqual([
      'cancel'
    ]);
    const held = parsedJob({
      state: 'PENDING',
      elements: [
        {
          ...parsedJob().elements[0],
          state: 'PENDING',
          reason: 'JobHeldUser'
        }
      ]
    });
    expect(JobsModel.actions(held)).toEqual(['cancel', 'release']);
    expect(JobsModel.actions(parsedJob({ state: 'FAILED' }))).toEqual([
      'resubmit'
    ]);
    expect(JobsModel.progress(parsedJob())).toEqual({ cell: 7, of: 20 });
  });

  describe('all users', () => {
    const ADMIN: Whoami = {
      name: 'alice',
      groups: [],
      roles: ['researcher', 'admin']
    };
    const mine = () => parsedJob({ id: 'a1', owner: 'alice' });
    const bobs = () =>
      parsedJob({
        id: 'b1',
        owner: 'bob',
        submittedAt: '2026-11-25T09:00:00.000Z'
      });

    it('lists every user with all=true for admins, and back to their own', async () => {
      const fake = new FakeClient();
      fake.user = ADMIN;
      fake.lists = [[mine()]];
      fake.allList = [mine(), bobs()];
      const model = create(fake);
      await waitFor(() => !model.loading);
      expect(model.canShowAll).toBe(true);
      expect(model.showAll).toBe(false);
      expect(fake.queries).toEqual([{}]);

      model.showAll = true;
      await waitFor(() => model.jobs.length === 2);
      expect(fake.queries.at(-1)).toEqual({ all: 'true' });
      expect(model.jobs.map(j => j.owner)).toEqual(['alice', 'bob']);
      // Other users' jobs arrive over the stream while shown.
      fake.stream.setState('open');
      await waitFor(() => fake.calls.filter(c => c === 'list:all').length > 1);
      fake.stream.received.emit({
        type: 'job',
        job: parsedJob({ id: 'c1', owner: 'carol' })
      });
      expect(model.jobs.map(j => j.id)).toContain('c1');

      model.selectedId = 'b1';
      model.showAll = false;
      // Others' jobs leave at once, the selection with them.
      expect(model.jobs.map(j => j.id)).toEqual(['a1']);
      expect(model.selectedId).toBeNull();
      await waitFor(() => fake.queries.at(-1)?.all === undefined);
      expect(model.jobs.map(j => j.id)).toEqual(['a1']);
    });

    it('never offers nor sends all=true to users who are not admins', async () => {
      const fake = new FakeClient();
      fake.lists = [[bobs()]];
      fake.allList = [bobs(), mine()];
      const model = create(fake);
      await waitFor(() => !model.loading);
      expect(model.user?.name).toBe('bob');
      expect(model.canShowAll).toBe(false);
      model.showAll = true;
      expect(model.showAll).toBe(false);
      await model.refresh();
      expect(fake.queries.length).toBeGreaterThan(1);
      expect(fake.queries.every(q => q.all === undefined)).toBe(true);
      expect(fake.calls).not.toContain('list:all');
    });

    it("ignores other users' events while off, and announces only own ends", async () => {
      const fake = new FakeClient();
      fake.user = ADMIN;
      fake.lists = [[mine()]];
      fake.allList = [mine(), bobs()];
      const model = create(fake);
      await waitFor(() => !model.loading);
      const ended: string[] = [];
      model.jobEnded.connect((_, j) => ended.push(j.id));

      fake.stream.received.emit({ type: 'job', job: bobs() });
      expect(model.jobs.map(j => j.id)).toEqual(['a1']);

      const later = '2026-11-25T10:05:00.000Z';
      fake.stream.received.emit({
        type: 'job',
        job: parsedJob({
          id: 'a1',
          owner: 'alice',
          state: 'COMPLETED',
          updatedAt: later
        })
      });
      expect(model.jobs[0].state).toBe('COMPLETED');

      model.showAll = true;
      await waitFor(() => model.jobs.length === 2);
      fake.stream.received.emit({
        type: 'job',
        job: parsedJob({
          id: 'b1',
          owner: 'bob',
          state: 'FAILED',
          submittedAt: '2026-11-25T09:00:00.000Z',
          updatedAt: later
        })
      });
      expect(model.jobs.find(j => j.id === 'b1')?.state).toBe('FAILED');
      expect(ended).toEqual(['a1']);
    });
  });

  it('stops everything when disposed', async () => {
    const fake = new FakeClient();
    const model = create(fake, false);
    model.start();
    model.dispose();
    expect(fake.stream.isDisposed).toBe(true);
    expect(model.isDisposed).toBe(true);
  });
});
