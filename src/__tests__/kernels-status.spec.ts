/**
 * @jest-environment node
 */
import { KernelStatus } from '../kernels/status';
import { identityTrans } from './helpers';
import { clusterKernel } from './kernels-fakes';

const trans = identityTrans();
const NOW = Date.parse('2026-12-07T10:00:00.000Z');
const inMinutes = (m: number, from = NOW) =>
  new Date(from + m * 60_000).toISOString();
/** The local `HH:MM` of an ISO time, as the status bar writes it. */
const hhmm = (iso: string) =>
  new Date(iso).toLocaleString(undefined, {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23'
  });

describe('KernelStatus.text', () => {
  it('names the node, the job and the walltime left while running', () => {
    const kernel = clusterKernel({ walltimeEnd: inMinutes(42.5) });
    expect(KernelStatus.text(kernel, NOW, trans)).toBe(
      'Cluster: node1 · job 123 · 42 min left'
    );
  });

  it('counts down as the clock moves, in hours past an hour, never below 0', () => {
    const kernel = clusterKernel({ walltimeEnd: inMinutes(125) });
    expect(KernelStatus.text(kernel, NOW, trans)).toBe(
      'Cluster: node1 · job 123 · 2 h 5 min left'
    );
    expect(KernelStatus.text(kernel, NOW + 66 * 60_000, trans)).toBe(
      'Cluster: node1 · job 123 · 59 min left'
    );
    expect(KernelStatus.text(kernel, NOW + 200 * 60_000, trans)).toBe(
      'Cluster: node1 · job 123 · 0 min left'
    );
  });

  it('leaves the countdown out while the walltime is unknown', () => {
    expect(KernelStatus.text(clusterKernel(), NOW, trans)).toBe(
      'Cluster: node1 · job 123'
    );
  });

  it('gives the place in the queue, the reason and the expected start while pending', () => {
    const expectedStart = inMinutes(65);
    const kernel = clusterKernel({
      state: 'pending',
      node: null,
      queuePosition: 2,
      pendingReason: 'Resources',
      expectedStart
    });
    expect(KernelStatus.text(kernel, NOW, trans)).toBe(
      `Waiting for the cluster: 2nd in queue (Resources), expected ${hhmm(expectedStart)}`
    );
  });

  it('says only that it waits when the queue tells nothing yet', () => {
    const kernel = clusterKernel({ state: 'pending', node: null });
    expect(KernelStatus.text(kernel, NOW, trans)).toBe(
      'Waiting for the cluster…'
    );
  });

  it('names the node while the kernel starts', () => {
    expect(
      KernelStatus.text(clusterKernel({ state: 'starting' }), NOW, trans)
    ).toBe('Starting on node1…');
  });

  it('says why the job ended', () => {
    const kernel = clusterKernel({ state: 'failed', endedReason: 'TIMEOUT' });
    expect(KernelStatus.text(kernel, NOW, trans)).toBe(
      'Cluster job 123 ended: TIMEOUT'
    );
  });
});

describe('KernelStatus helpers', () => {
  it('writes English ordinals', () => {
    expect(
      [1, 2, 3, 4, 11, 12, 13, 21, 22, 101].map(KernelStatus.ordinal)
    ).toEqual([
      '1st',
      '2nd',
      '3rd',
      '4th',
      '11th',
      '12th',
      '13th',
      '21st',
      '22nd',
      '101st'
    ]);
  });

  it('explains the end with the SLURM state in words and the way out', () => {
    expect(
      KernelStatus.endedMessage(
        clusterKernel({ state: 'failed', endedReason: 'TIMEOUT' }),
        trans
      )
    ).toBe(
      'The cluster job 123 ended: TIMEOUT (walltime reached). Restart the kernel to get a new job.'
    );
    expect(
      KernelStatus.endedMessage(
        clusterKernel({
          state: 'ended',
          endedReason: 'the job left the queue'
        }),
        trans
      )
    ).toBe(
      'The cluster job 123 ended: the job left the queue. Restart the kernel to get a new job.'
    );
  });

  it('tells a shutdown by the owner from a cancel behind the notebook', () => {
    expect(
      KernelStatus.endedByOwner(
        clusterKernel({
          state: 'cancelled',
          endedReason: KernelStatus.OWNER_STOP_REASON
        })
      )
    ).toBe(true);
    expect(
      KernelStatus.endedByOwner(
        clusterKernel({ state: 'ended', endedReason: 'COMPLETED' })
      )
    ).toBe(true);
    expect(
      KernelStatus.endedByOwner(
        clusterKernel({ state: 'cancelled', endedReason: 'CANCELLED' })
      )
    ).toBe(false);
    expect(
      KernelStatus.endedByOwner(
        clusterKernel({ state: 'failed', endedReason: 'TIMEOUT' })
      )
    ).toBe(false);
  });
});
