import { PipelinesModel } from '../pipelines/PipelinesModel';
import { RunHistoryModel } from '../pipelines/RunHistoryModel';
import { TriggerForm } from '../pipelines/triggerForm';
import { FakePipelinesApi, NOTEBOOK, run, trigger } from './pipelines-fakes';

describe('PipelinesModel', () => {
  let api: FakePipelinesApi;
  let model: PipelinesModel;

  beforeEach(() => {
    api = new FakePipelinesApi();
    model = new PipelinesModel({ api });
  });

  afterEach(() => model.dispose());

  it('lists the triggers newest first with their last runs', async () => {
    api.triggers = [
      trigger({
        id: 'old',
        name: 'old',
        createdAt: '2025-01-01T00:00:00.000Z'
      }),
      trigger({ id: 'new', name: 'new', createdAt: '2025-02-01T00:00:00.000Z' })
    ];
    expect(model.loading).toBe(true);
    await model.refresh();
    expect(model.loading).toBe(false);
    expect(model.triggers.map(t => t.id)).toEqual(['new', 'old']);
    expect(model.trigger('old')?.lastRuns[0].result?.jobId).toBe(
      'a1b2c3d4e5f6'
    );
  });

  it('asks for endpoint names only when a trigger rolls or watches one', async () => {
    await model.refresh();
    expect(api.calls).not.toContain('endpoints');
    api.triggers = [
      trigger({ action: { kind: 'roll-endpoint', endpoint: 'e1', output: 0 } })
    ];
    await model.refresh();
    await model.refresh();
    expect(api.calls.filter(call => call === 'endpoints')).toHaveLength(1);
    expect(model.names.endpoint?.('e1')).toBe('assistant');
    expect(model.names.trigger?.('t1')).toBe('clean incoming');
  });

  it('keeps the error of a failed refresh until the next one succeeds', async () => {
    const list = api.list.bind(api);
    api.list = () => Promise.reject(new Error('bridge down'));
    await model.refresh();
    expect(model.error?.message).toBe('bridge down');
    api.list = list;
    await model.refresh();
    expect(model.error).toBeNull();
  });

  it('pauses and resumes, busy while the bridge answers', async () => {
    await model.refresh();
    const pausing = model.setPaused('t1', true);
    expect(model.busy('t1')).toBe(true);
    await pausing;
    expect(model.busy('t1')).toBe(false);
    expect(model.trigger('t1')?.state).toBe('paused');
    await model.setPaused('t1', false);
    expect(model.trigger('t1')?.state).toBe('active');
    expect(api.calls).toEqual(
      expect.arrayContaining(['patch t1 paused', 'patch t1 active'])
    );
  });

  it('lists a created trigger first and forgets a deleted one', async () => {
    await model.refresh();
    const form = {
      ...TriggerForm.defaults({
        tiers: await api.tiers(),
        profiles: await api.profiles(),
        endpoints: [],
        triggers: []
      }),
      name: 'nightly',
      event: 'schedule' as const,
      notebookPath: 'nightly.ipynb'
    };
    const created = await model.create(
      TriggerForm.createRequest(form, NOTEBOOK)
    );
    expect(model.triggers[0].id).toBe(created.id);
    expect(api.created[0].source).toEqual({
      kind: 'schedule',
      cron: '0 2 * * *'
    });
    await model.deleteTrigger('t1');
    expect(model.trigger('t1')).toBeNull();
    expect(api.calls).toContain('remove t1');
  });

  it('rejects with the refusal of the bridge and lists nothing new', async () => {
    await model.refresh();
    api.refusal = new Error('At most 50 triggers');
    await expect(
      model.create({
        name: 'x',
        source: { kind: 'schedule', cron: '0 2 * * *' },
        action: { kind: 'copy', to: 'archive:x/' }
      })
    ).rejects.toThrow('At most 50 triggers');
    expect(model.triggers).toHaveLength(1);
  });

  it('finds written objects as tier and path', () => {
    expect(PipelinesModel.objectOf('archive:results/42/clean.csv')).toEqual({
      tier: 'archive',
      path: 'results/42/clean.csv'
    });
    expect(PipelinesModel.objectOf('https://x')).toBeNull();
    expect(
      PipelinesModel.isBusy(trigger({ lastRuns: [run({ state: 'waiting' })] }))
    ).toBe(true);
    expect(PipelinesModel.isBusy(trigger())).toBe(false);
  });
});

describe('RunHistoryModel', () => {
  it('pages back with the oldest run shown, until a page is not full', async () => {
    const api = new FakePipelinesApi();
    api.runPages = [
      [run({ id: 'r3' }), run({ id: 'r2' })],
      [run({ id: 'r1' })]
    ];
    const history = new RunHistoryModel({ api, triggerId: 't1', pageSize: 2 });
    await history.reload();
    expect(history.runs.map(r => r.id)).toEqual(['r3', 'r2']);
    expect(history.hasMore).toBe(true);
    await history.loadMore();
    expect(history.runs.map(r => r.id)).toEqual(['r3', 'r2', 'r1']);
    expect(history.hasMore).toBe(false);
    await history.loadMore();
    expect(api.calls).toEqual(['runs t1 before=', 'runs t1 before=r2']);
  });

  it('keeps the runs shown when a page fails, and says why', async () => {
    const api = new FakePipelinesApi();
    api.runPages = [[run({ id: 'r2' })]];
    const history = new RunHistoryModel({ api, triggerId: 't1', pageSize: 1 });
    await history.reload();
    api.runs = () => Promise.reject(new Error('timeout'));
    await history.loadMore();
    expect(history.error?.message).toBe('timeout');
    expect(history.runs.map(r => r.id)).toEqual(['r2']);
  });
});
