/**
 * @jest-environment node
 */
import { CurrentKernelModel } from '../kernels/CurrentKernelModel';
import { KernelsModel } from '../kernels/KernelsModel';
import { clusterKernel, FakeKernelsApi } from './kernels-fakes';

const NOW = Date.parse('2026-12-07T10:00:00.000Z');

function setup(now = () => NOW): { api: FakeKernelsApi; model: KernelsModel } {
  const api = new FakeKernelsApi();
  const model = new KernelsModel({ api, auto: false, now, tickMs: 1e9 });
  return { api, model };
}

describe('KernelsModel', () => {
  let model: KernelsModel | null = null;
  afterEach(() => model?.dispose());

  it('finds the cluster kernel of a Jupyter kernel id, the newest after a restart', async () => {
    const s = setup();
    model = s.model;
    s.api.lists = [
      [
        clusterKernel({ id: 'bbbbbbbbbbbb', jupyterKernelId: 'jk-2' }),
        clusterKernel({
          id: 'cccccccccccc',
          state: 'cancelled',
          endedReason: 'stopped by its owner'
        }),
        clusterKernel({
          id: 'dddddddddddd',
          state: 'pending',
          createdAt: '2026-12-07T10:05:00.000Z'
        })
      ]
    ];
    model.start();
    await model.refresh();
    expect(model.forJupyterKernel('jk-1')?.id).toBe('dddddddddddd');
    expect(model.forJupyterKernel('jk-2')?.id).toBe('bbbbbbbbbbbb');
    expect(model.forJupyterKernel('local-kernel')).toBeNull();
    expect(model.forJupyterKernel(null)).toBeNull();
  });

  it('takes kernel events from the stream and ignores older versions', async () => {
    const s = setup();
    model = s.model;
    model.start();
    await model.refresh();
    const changes: KernelsModel.IChange[] = [];
    model.kernelChanged.connect((_, change) => changes.push(change));
    const pending = clusterKernel({
      state: 'pending',
      node: null,
      updatedAt: '2026-12-07T10:00:01.000Z'
    });
    const running = clusterKernel({ updatedAt: '2026-12-07T10:00:05.000Z' });
    s.api.stream.received.emit({ type: 'kernel', kernel: pending });
    s.api.stream.received.emit({ type: 'kernel', kernel: running });
    s.api.stream.received.emit({ type: 'kernel', kernel: pending });
    expect(model.forJupyterKernel('jk-1')?.state).toBe('running');
    expect(
      changes.map(c => [c.previous?.state ?? null, c.kernel.state])
    ).toEqual([
      [null, 'pending'],
      ['pending', 'running']
    ]);
  });

  it('polls while the stream is down and rests while it is open', async () => {
    const s = setup();
    model = s.model;
    s.api.lists = [
      [clusterKernel({ state: 'pending', node: null })],
      [clusterKernel({ updatedAt: '2026-12-07T10:01:00.000Z' })]
    ];
    model.start();
    await model.refresh();
    expect(model.forJupyterKernel('jk-1')?.state).toBe('pending');
    // A poll (the stream is not open) brings the next state.
    await model.refresh();
    expect(model.forJupyterKernel('jk-1')?.state).toBe('running');
    expect(model.live).toBe(false);
    s.api.stream.setState('open');
    expect(model.live).toBe(true);
  });

  it('ticks its clock so that countdowns move between events', async () => {
    let now = NOW;
    const s = setup(() => now);
    model = s.model;
    s.api.lists = [
      [
        clusterKernel({
          walltimeEnd: new Date(NOW + 30 * 60_000).toISOString()
        })
      ]
    ];
    model.start();
    await model.refresh();
    const current = new CurrentKernelModel(model);
    current.jupyterKernelId = 'jk-1';
    let changed = 0;
    current.changed.connect(() => changed++);
    now += 5 * 60_000;
    model.tick();
    expect(current.now).toBe(now);
    expect(changed).toBe(1);
    current.dispose();
  });
});

describe('CurrentKernelModel', () => {
  it('holds the cluster kernel of the current widget, null for a local kernel', async () => {
    const { api, model } = setup();
    api.lists = [[clusterKernel()]];
    model.start();
    await model.refresh();
    const current = new CurrentKernelModel(model);
    let changed = 0;
    current.changed.connect(() => changed++);
    expect(current.kernel).toBeNull();
    current.jupyterKernelId = 'jk-1';
    expect(current.kernel?.slurmId).toBe('123');
    current.jupyterKernelId = 'a-local-kernel';
    expect(current.kernel).toBeNull();
    current.jupyterKernelId = 'a-local-kernel';
    expect(changed).toBe(2);
    current.dispose();
    model.dispose();
  });
});

describe('KernelsModel and a new bridge', () => {
  it('opens the stream again and reloads when the shared stream closes', async () => {
    const { api, model } = setup();
    let opened = 0;
    const events = api.events.bind(api);
    api.events = () => {
      opened++;
      return events();
    };
    api.lists = [[clusterKernel()], []];
    model.start();
    await model.refresh();
    expect(model.kernels).toHaveLength(1);
    api.stream.setState('closed');
    await model.refresh();
    expect(opened).toBe(2);
    expect(model.kernels).toHaveLength(0);
    model.dispose();
  });
});
