/**
 * @jest-environment node
 */
import type { ClusterKernel } from '@hpc-bridge/server/contract';
import { Notification } from '@jupyterlab/apputils';
import { KernelNotices } from '../kernels/KernelNotices';
import { KernelsModel } from '../kernels/KernelsModel';
import { identityTrans } from './helpers';
import { clusterKernel, FakeKernelsApi } from './kernels-fakes';

// The JupyterLab UI packages are ES modules that this Jest setup does not transform.
jest.mock('@jupyterlab/apputils', () => ({
  Notification: {
    emit: jest.fn(() => 'waiting-1'),
    update: jest.fn(() => true),
    dismiss: jest.fn(),
    error: jest.fn(() => 'error-1'),
    warning: jest.fn(() => 'warning-1')
  }
}));

const N = jest.mocked(Notification);
const NOW = Date.parse('2026-12-07T10:00:00.000Z');
const at = (minutes: number) => new Date(NOW + minutes * 60_000).toISOString();
let seconds = 0;
/** A newer version of the kernel each time (events carry updatedAt). */
const version = (overrides: Partial<ClusterKernel>) =>
  clusterKernel({
    updatedAt: new Date(NOW + ++seconds * 1000).toISOString(),
    ...overrides
  });

function setup(open: string[] = ['jk-1']) {
  let now = NOW;
  const api = new FakeKernelsApi();
  const model = new KernelsModel({
    api,
    auto: false,
    now: () => now,
    tickMs: 1e9
  });
  const shutdown = jest.fn(async () => undefined);
  const notices = new KernelNotices({
    model,
    trans: identityTrans(),
    isOpen: id => open.includes(id),
    shutdown
  });
  model.start();
  const send = (kernel: ClusterKernel) =>
    api.stream.received.emit({ type: 'kernel', kernel });
  const advance = (minutes: number) => {
    now += minutes * 60_000;
    model.tick();
  };
  return { model, notices, send, advance, shutdown };
}

describe('KernelNotices', () => {
  let env: ReturnType<typeof setup> | null = null;
  beforeEach(() => {
    jest.clearAllMocks();
  });
  afterEach(() => {
    env?.notices.dispose();
    env?.model.dispose();
    env = null;
  });

  it('shows "Waiting for the cluster" once while pending, with a Cancel that shuts the kernel down', () => {
    env = setup();
    env.send(version({ state: 'pending', node: null }));
    env.send(
      version({
        state: 'pending',
        node: null,
        queuePosition: 2,
        pendingReason: 'Priority'
      })
    );
    expect(N.emit).toHaveBeenCalledTimes(1);
    expect(N.emit.mock.calls[0]![0]).toBe('Waiting for the cluster…');
    expect(N.emit.mock.calls[0]![1]).toBe('in-progress');
    expect(N.update).toHaveBeenCalledWith({
      id: 'waiting-1',
      message: 'Waiting for the cluster: 2nd in queue (Priority)'
    });
    const action = N.emit.mock.calls[0]![2]!.actions![0]!;
    expect(action.label).toBe('Cancel');
    action.callback(new Event('click') as MouseEvent);
    expect(env.shutdown).toHaveBeenCalledWith('jk-1');
    // Starting: the notice goes, once.
    env.send(version({ state: 'starting' }));
    env.send(version({ state: 'running' }));
    expect(N.dismiss).toHaveBeenCalledTimes(1);
    expect(N.dismiss).toHaveBeenCalledWith('waiting-1');
  });

  it('says why once when the job ends behind the notebook', () => {
    env = setup();
    env.send(version({ state: 'running' }));
    const ended = version({ state: 'failed', endedReason: 'TIMEOUT' });
    env.send(ended);
    env.send(version({ state: 'failed', endedReason: 'TIMEOUT' }));
    expect(N.error).toHaveBeenCalledTimes(1);
    expect(N.error).toHaveBeenCalledWith(
      'The cluster job 123 ended: TIMEOUT (walltime reached). Restart the kernel to get a new job.',
      { autoClose: false }
    );
  });

  it('stays quiet when the owner shut the kernel down, and for kernels of closed notebooks', () => {
    env = setup(['jk-1']);
    env.send(version({ state: 'running' }));
    env.send(
      version({ state: 'cancelled', endedReason: 'stopped by its owner' })
    );
    env.send(version({ id: 'bbbbbbbbbbbb', jupyterKernelId: 'jk-closed' }));
    env.send(
      version({
        id: 'bbbbbbbbbbbb',
        jupyterKernelId: 'jk-closed',
        state: 'cancelled',
        endedReason: 'CANCELLED'
      })
    );
    expect(N.error).not.toHaveBeenCalled();
    expect(N.emit).not.toHaveBeenCalled();
  });

  it('does not report a kernel that had already ended when first seen', () => {
    env = setup();
    env.send(version({ state: 'failed', endedReason: 'NODE_FAIL' }));
    expect(N.error).not.toHaveBeenCalled();
  });

  it('warns once when the walltime is 10 minutes away, as the clock ticks', () => {
    env = setup();
    env.send(version({ state: 'running', walltimeEnd: at(30) }));
    env.advance(15);
    expect(N.warning).not.toHaveBeenCalled();
    env.advance(5);
    env.advance(1);
    expect(N.warning).toHaveBeenCalledTimes(1);
    expect(N.warning.mock.calls[0]![0]).toMatch(
      /^The walltime of cluster job 123 ends in 10 min/
    );
  });

  it('takes the warning time from the settings; 0 turns it off', () => {
    env = setup();
    env.notices.warnMinutes = 0;
    env.send(version({ state: 'running', walltimeEnd: at(3) }));
    env.advance(1);
    expect(N.warning).not.toHaveBeenCalled();
    env.notices.warnMinutes = 5;
    expect(N.warning).toHaveBeenCalledTimes(1);
  });
});
