/**
 * Pure state tracking of cluster kernels: a queue snapshot (the jobs feature's
 * `snapshot`) and accounting records folded into a kernel.
 */
import type { ClusterKernel } from '../contract';
import {
  mapSlurmState,
  type IAccountingRecord,
  type IQueueRecord
} from '../ports/slurm';
import type { IQueueSnapshot } from '../jobs/track';
import { isTerminal } from '../jobs/repository/jobs';

const iso = (epoch: number | null): string | null =>
  epoch === null || epoch <= 0 ? null : new Date(epoch * 1000).toISOString();

const WAITING = {
  pendingReason: null,
  queuePosition: null,
  expectedStart: null
} as const;

/** A SLURM end state as the kernel's: COMPLETED ended, CANCELLED cancelled, the rest failed. */
function ended(kernel: ClusterKernel, slurmState: string): ClusterKernel {
  const state = mapSlurmState(slurmState);
  return {
    ...kernel,
    ...WAITING,
    state:
      state === 'COMPLETED'
        ? 'ended'
        : state === 'CANCELLED'
          ? 'cancelled'
          : 'failed',
    endedReason: state === 'UNKNOWN' ? slurmState : state
  };
}

function fromQueue(kernel: ClusterKernel, q: IQueueRecord): ClusterKernel {
  const state = mapSlurmState(q.state);
  if (isTerminal(state)) {
    return ended({ ...kernel, node: q.node ?? kernel.node }, q.state);
  }
  if (state === 'PENDING' || state === 'SUBMITTED' || state === 'SUSPENDED') {
    return {
      ...kernel,
      state: 'pending',
      node: null,
      pendingReason: q.reason,
      expectedStart: iso(q.startTime)
    };
  }
  return {
    ...kernel,
    ...WAITING,
    // Running: `running` once ipykernel has written its connection file (the poller reads it).
    state: kernel.state === 'running' ? 'running' : 'starting',
    node: q.node,
    startedAt: kernel.startedAt ?? iso(q.startTime),
    walltimeEnd: iso(q.endTime)
  };
}

/** The kernel after one tick of the queue and accounting. */
export function applyKernelTick(
  kernel: ClusterKernel,
  snap: IQueueSnapshot,
  accounting: ReadonlyMap<string, IAccountingRecord>
): ClusterKernel {
  if (kernel.slurmId === null) {
    return kernel;
  }
  const q = snap.byKey.get(kernel.slurmId);
  if (q !== undefined) {
    const next = fromQueue(kernel, q);
    return next.state === 'pending'
      ? {
          ...next,
          queuePosition: snap.positions.get(Number(kernel.slurmId)) ?? null
        }
      : next;
  }
  const a = accounting.get(kernel.slurmId);
  if (a !== undefined && isTerminal(mapSlurmState(a.state))) {
    return ended({ ...kernel, node: a.node ?? kernel.node }, a.state);
  }
  // Neither the queue nor accounting has it (the job was submitted before this tick read
  // the queue, so it has left it): it ended, how is unknown.
  return {
    ...kernel,
    ...WAITING,
    state: 'ended',
    endedReason: 'the job left the queue'
  };
}

/** What of a kernel is worth an event and a write: all but updatedAt and lastActivity. */
export function kernelEventWorthy(kernel: ClusterKernel): string {
  return JSON.stringify({ ...kernel, updatedAt: null, lastActivity: null });
}
