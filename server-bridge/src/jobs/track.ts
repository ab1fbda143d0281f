/**
 * Pure state tracking: folds one queue snapshot (squeue) and accounting records (sacct)
 * into a job, and derives the overall state of arrays.
 */
import type { Job, JobElement, JobState } from '../contract';
import {
  exitCodeOf,
  mapSlurmState,
  type IAccountingRecord,
  type IQueueRecord
} from '../ports/slurm';
import { isTerminal } from './repository/jobs';

const iso = (epoch: number | null): string | null =>
  epoch === null || epoch <= 0 ? null : new Date(epoch * 1000).toISOString();

/** The overall state: running while any element runs, FAILED if any failed, … */
export function overallState(states: readonly JobState[]): JobState {
  if (states.length === 0) {
    return 'UNKNOWN';
  }
  const any = (s: JobState) => states.includes(s);
  if (any('RUNNING') || any('COMPLETING')) {
    return 'RUNNING';
  }
  if (states.every(isTerminal)) {
    for (const s of [
      'FAILED',
      'OUT_OF_MEMORY',
      'TIMEOUT',
      'NODE_FAIL',
      'BOOT_FAIL',
      'DEADLINE',
      'PREEMPTED',
      'CANCELLED'
    ] as const) {
      if (any(s)) {
        return s;
      }
    }
    return 'COMPLETED';
  }
  for (const s of ['SUSPENDED', 'PENDING', 'SUBMITTED', 'UNKNOWN'] as const) {
    if (any(s)) {
      return s;
    }
  }
  // Some elements ended, the others are in transitional states.
  return 'RUNNING';
}

export function fromQueue(
  el: JobElement,
  rec: IQueueRecord,
  nowMs: number
): JobElement {
  const state = mapSlurmState(rec.state);
  const done = isTerminal(state);
  const started = rec.startTime > 0 && state !== 'PENDING';
  const elapsed = !started
    ? null
    : done && rec.endTime >= rec.startTime
      ? rec.endTime - rec.startTime
      : Math.max(0, Math.round(nowMs / 1000) - rec.startTime);
  return {
    ...el,
    state,
    reason: rec.reason,
    node: started ? rec.node : null,
    exitCode:
      done && rec.exitStatus !== null ? exitCodeOf(rec.exitStatus) : null,
    elapsedSeconds: elapsed,
    startedAt: started ? iso(rec.startTime) : null,
    endedAt: done ? iso(rec.endTime) : null
  };
}

export function fromAccounting(
  el: JobElement,
  rec: IAccountingRecord
): JobElement {
  const state = mapSlurmState(rec.state);
  return {
    ...el,
    state,
    reason: rec.reason,
    node: rec.node ?? el.node,
    exitCode: rec.exitCode ?? el.exitCode,
    elapsedSeconds: rec.elapsedSeconds ?? el.elapsedSeconds,
    maxRssMB: rec.maxRssMB ?? el.maxRssMB,
    startedAt: iso(rec.startTime) ?? el.startedAt,
    endedAt: isTerminal(state) ? (iso(rec.endTime) ?? el.endedAt) : null
  };
}

/** 1-based rank of `baseId` among pending jobs of `partition`: priority, then age, then id. */
export function queuePositions(
  records: readonly IQueueRecord[]
): Map<number, number> {
  const pending = new Map<number, IQueueRecord>();
  for (const r of records) {
    if (mapSlurmState(r.state) === 'PENDING' && !pending.has(r.jobId)) {
      pending.set(r.jobId, r);
    }
  }
  const byPartition = new Map<string, IQueueRecord[]>();
  for (const r of pending.values()) {
    const list = byPartition.get(r.partition) ?? [];
    list.push(r);
    byPartition.set(r.partition, list);
  }
  const out = new Map<number, number>();
  for (const list of byPartition.values()) {
    list.sort(
      (a, b) =>
        b.priority - a.priority ||
        a.submitTime - b.submitTime ||
        a.jobId - b.jobId
    );
    list.forEach((r, i) => {
      if (!out.has(r.baseId)) {
        out.set(r.baseId, i + 1);
      }
    });
  }
  return out;
}

export interface IQueueSnapshot {
  byKey: Map<string, IQueueRecord>;
  positions: Map<number, number>;
}

export function snapshot(records: readonly IQueueRecord[]): IQueueSnapshot {
  return {
    byKey: new Map(records.map(r => [r.key, r])),
    positions: queuePositions(records)
  };
}

/**
 * The job after one tick. Elements missing from the queue take their accounting record
 * when there is one, else stay as they were.
 */
export function applyTick(
  job: Job,
  queue: IQueueSnapshot,
  accounting: ReadonlyMap<string, IAccountingRecord>,
  nowMs: number
): Job {
  const elements = job.elements.map(el => {
    if (el.slurmId === null || isTerminal(el.state)) {
      return el;
    }
    const q = queue.byKey.get(el.slurmId);
    const a = accounting.get(el.slurmId);
    if (q !== undefined) {
      const next = fromQueue(el, q, nowMs);
      return { ...next, maxRssMB: a?.maxRssMB ?? el.maxRssMB };
    }
    return a === undefined ? el : fromAccounting(el, a);
  });
  const state = overallState(elements.map(e => e.state));
  const baseId = job.slurmId === null ? null : Number(job.slurmId);
  const pendingStarts = elements
    .filter(e => e.state === 'PENDING' && e.slurmId !== null)
    .map(e => queue.byKey.get(e.slurmId ?? '')?.startTime ?? 0)
    .filter(t => t > 0);
  return {
    ...job,
    elements,
    state,
    queuePosition:
      state === 'PENDING' && baseId !== null
        ? (queue.positions.get(baseId) ?? null)
        : null,
    expectedStart:
      state === 'PENDING' && pendingStarts.length > 0
        ? iso(Math.min(...pendingStarts))
        : null
  };
}

/** Slurm ids to ask accounting about: the base id of jobs with elements missing from the queue. */
/**
 * Base ids of the jobs whose accounting record this tick needs: elements that left the
 * queue, and elements the queue shows ending now (accounting holds their MaxRSS).
 */
export function needingAccounting(
  jobs: readonly Job[],
  queue: IQueueSnapshot
): string[] {
  const ids = new Set<string>();
  for (const job of jobs) {
    for (const el of job.elements) {
      if (el.slurmId === null || isTerminal(el.state) || job.slurmId === null) {
        continue;
      }
      const q = queue.byKey.get(el.slurmId);
      if (q === undefined || isTerminal(mapSlurmState(q.state))) {
        ids.add(job.slurmId);
      }
    }
  }
  return [...ids];
}

/** The job with the elapsed time of running elements brought up to `nowMs`. */
export function withLiveElapsed(job: Job, nowMs: number): Job {
  if (!job.elements.some(e => e.state === 'RUNNING' && e.startedAt !== null)) {
    return job;
  }
  return {
    ...job,
    elements: job.elements.map(e =>
      e.state === 'RUNNING' && e.startedAt !== null
        ? {
            ...e,
            elapsedSeconds: Math.max(
              0,
              Math.round((nowMs - Date.parse(e.startedAt)) / 1000)
            )
          }
        : e
    )
  };
}

const POSITION_STEPS = [20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000];

/**
 * A queue position as coarse as users need it: exact up to 10, then the step it is under
 * (20, 50, 100, …). With thousands of pending jobs every start moves all of them; an event
 * per job per tick for that was O(N²) events (the load benchmark's 17× amplification).
 */
export function positionBucket(position: number | null): number | null {
  if (position === null || position <= 10) {
    return position;
  }
  return POSITION_STEPS.find(step => position <= step) ?? Infinity;
}

/**
 * What of a job is worth an event and a store write: everything but `updatedAt`, a running
 * element's growing elapsed time, the exact queue position (its bucket counts) and the
 * expected start to the 5 minutes.
 */
export function eventWorthy(job: Job): unknown {
  const expected =
    job.expectedStart === null
      ? null
      : Math.round(Date.parse(job.expectedStart) / 300_000);
  return {
    ...job,
    updatedAt: null,
    queuePosition: positionBucket(job.queuePosition),
    expectedStart: expected,
    elements: job.elements.map(e => ({
      ...e,
      elapsedSeconds: e.state === 'RUNNING' ? null : e.elapsedSeconds
    }))
  };
}
