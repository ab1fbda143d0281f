/** Folding real squeue/sacct output (captured on this stack) into jobs. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SshConnection } from '../../src/adapters/ssh/client';
import { SshQueue } from '../../src/adapters/ssh/jobs';
import {
  parseSacct,
  parseSqueue,
  squeueFailure
} from '../../src/adapters/ssh/queue';
import { SlurmCommandError } from '../../src/adapters/ssh/slurm';
import type { Job, JobElement } from '../../src/contract';
import {
  applyTick,
  eventWorthy,
  needingAccounting,
  overallState,
  positionBucket,
  queuePositions,
  snapshot
} from '../../src/jobs/track';

const fixture = (name: string): string =>
  readFileSync(join(__dirname, '..', 'fixtures', name), 'utf8');

function element(index: number, slurmId: string): JobElement {
  return {
    index,
    slurmId,
    state: 'SUBMITTED',
    reason: null,
    node: null,
    exitCode: null,
    elapsedSeconds: null,
    maxRssMB: null,
    progress: null,
    parameters: {},
    startedAt: null,
    endedAt: null
  };
}

function job(slurmId: string, elements: JobElement[]): Job {
  return {
    id: 'abc',
    owner: 'alice',
    cluster: 'demo',
    name: 'n',
    notebookPath: 'a.ipynb',
    profile: 'cpu-small',
    partition: 'cpu',
    resources: { timeMinutes: 1, cpus: 1, memoryMB: 100, gpus: 0 },
    state: 'SUBMITTED',
    slurmId,
    isArray: elements.length > 1,
    elements,
    queuePosition: null,
    expectedStart: null,
    submittedAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    resubmittedFrom: null
  };
}

const NOW = 1795602460_000;

describe('applyTick', () => {
  it('shows a pending array with its queue position and a running job with node and elapsed', () => {
    const snap = snapshot(
      parseSqueue(JSON.parse(fixture('squeue-pending.json')))
    );
    const array = applyTick(
      job(
        '7',
        [0, 1, 2].map(i => element(i, `7_${i}`))
      ),
      snap,
      new Map(),
      NOW
    );
    expect(array.state).toBe('PENDING');
    expect(array.elements.map(e => e.reason)).toEqual([
      'Resources',
      'Resources',
      'Resources'
    ]);
    // 7 and 8 are pending in cpu; 7 has the higher priority.
    expect(array.queuePosition).toBe(1);
    const running = applyTick(
      job('5', [element(0, '5')]),
      snap,
      new Map(),
      NOW
    );
    expect(running.state).toBe('RUNNING');
    expect(running.elements[0]).toMatchObject({
      node: 'node1',
      elapsedSeconds: 3,
      exitCode: null
    });
    expect(running.queuePosition).toBeNull();
    expect(
      queuePositions(
        parseSqueue(JSON.parse(fixture('squeue-pending.json')))
      ).get(8)
    ).toBe(2);
  });

  it('takes the final state and exit code from the queue while SLURM still lists the job', () => {
    const snap = snapshot(
      parseSqueue(JSON.parse(fixture('squeue-mixed.json')))
    );
    const failed = applyTick(
      job('13', [element(0, '13')]),
      snap,
      new Map(),
      NOW
    );
    expect(failed.state).toBe('FAILED');
    expect(failed.elements[0]).toMatchObject({
      exitCode: '3:0',
      node: 'node1'
    });
    expect(
      applyTick(job('14', [element(0, '14')]), snap, new Map(), NOW).state
    ).toBe('CANCELLED');
  });

  it('asks accounting about a job the queue shows ending, for its MaxRSS', () => {
    const ending = {
      key: '21',
      jobId: 21,
      baseId: 21,
      state: 'COMPLETED',
      reason: null,
      node: 'node1',
      partition: 'cpu',
      priority: 1,
      user: 'alice',
      submitTime: 1795602400,
      startTime: 1795602401,
      endTime: 1795602404,
      exitStatus: 0
    };
    const snap = snapshot([ending]);
    const j = job('21', [element(0, '21')]);
    expect(needingAccounting([j], snap)).toEqual(['21']);
    const acct = new Map([
      [
        '21',
        {
          key: '21',
          state: 'COMPLETED',
          reason: null,
          node: 'node1',
          exitCode: '0:0',
          elapsedSeconds: 3,
          startTime: 1795602401,
          endTime: 1795602404,
          maxRssMB: 136.5
        }
      ]
    ]);
    const done = applyTick(j, snap, acct, NOW);
    expect(done.elements[0]).toMatchObject({
      state: 'COMPLETED',
      maxRssMB: 136.5
    });
    expect(needingAccounting([done], snap)).toEqual([]);
  });

  it('asks accounting only about jobs that left the queue, and uses its records', () => {
    const snap = snapshot([]);
    const j = job(
      '7',
      [0, 1, 2].map(i => element(i, `7_${i}`))
    );
    expect(needingAccounting([j], snap)).toEqual(['7']);
    const acct = new Map(
      parseSacct(fixture('sacct-parsable.txt')).map(r => [r.key, r])
    );
    const done = applyTick(j, snap, acct, NOW);
    expect(done.state).toBe('COMPLETED');
    expect(done.elements[2]).toMatchObject({
      state: 'COMPLETED',
      exitCode: '0:0',
      elapsedSeconds: 5,
      startedAt: new Date(1795602484_000).toISOString(),
      endedAt: new Date(1795602489_000).toISOString()
    });
    const failed = applyTick(job('13', [element(0, '13')]), snap, acct, NOW);
    expect(failed.state).toBe('FAILED');
    expect(failed.elements[0]?.exitCode).toBe('3:0');
  });

  it('leaves an element alone when neither the queue nor accounting knows it', () => {
    const j = job('999', [element(0, '999')]);
    expect(applyTick(j, snapshot([]), new Map(), NOW).elements).toEqual(
      j.elements
    );
  });
});

describe('overallState', () => {
  it('runs while any element runs, fails if any failed', () => {
    expect(overallState(['COMPLETED', 'RUNNING', 'PENDING'])).toBe('RUNNING');
    expect(overallState(['COMPLETED', 'FAILED', 'CANCELLED'])).toBe('FAILED');
    expect(overallState(['COMPLETED', 'CANCELLED'])).toBe('CANCELLED');
    expect(overallState(['COMPLETED', 'COMPLETED'])).toBe('COMPLETED');
    expect(overallState(['COMPLETED', 'PENDING'])).toBe('PENDING');
    expect(overallState(['SUBMITTED'])).toBe('SUBMITTED');
  });
});

describe('what of a job is worth an event', () => {
  const same = (a: Job, b: Job): boolean =>
    JSON.stringify(eventWorthy(a)) === JSON.stringify(eventWorthy(b));
  const pending = (
    queuePosition: number | null,
    expectedStart: string | null
  ) => ({
    ...job('7', [element(0, '7')]),
    state: 'PENDING' as const,
    queuePosition,
    expectedStart
  });

  it('keeps positions exact up to 10, then in steps', () => {
    expect([1, 10, 11, 20, 21, 240, 501, 20_000].map(positionBucket)).toEqual([
      1,
      10,
      20,
      20,
      50,
      500,
      1000,
      Infinity
    ]);
    expect(positionBucket(null)).toBeNull();
  });

  it('ignores a position that moves within its step and an expected start within 5 minutes', () => {
    const at = (min: number) =>
      new Date(Date.UTC(2026, 0, 1, 10, min, 10)).toISOString();
    expect(same(pending(240, at(1)), pending(230, at(2)))).toBe(true);
    expect(same(pending(3, at(1)), pending(2, at(1)))).toBe(false);
    expect(same(pending(240, at(1)), pending(190, at(1)))).toBe(false);
    expect(same(pending(5, at(1)), pending(5, at(40)))).toBe(false);
    expect(
      same(pending(5, at(1)), { ...pending(5, at(1)), state: 'RUNNING' })
    ).toBe(false);
  });
});

describe('the queue without its controller', () => {
  // Captured on this stack with slurmctld stopped: exit 0, an empty queue and an error.
  const down = fixture('squeue-controller-down.json');

  it('is a controller failure, not an empty queue (running jobs would look gone)', async () => {
    expect(squeueFailure(JSON.parse(down))).toBe(
      'slurm_load_jobs: Failed while looking for jobs'
    );
    expect(
      squeueFailure(JSON.parse(fixture('squeue-pending.json')))
    ).toBeNull();
    const conn = {
      exec: async () => ({ code: 0, signal: null, stdout: down, stderr: '' })
    } as unknown as SshConnection;
    const failed = await new SshQueue(conn).queue().then(
      () => null,
      (e: unknown) => e
    );
    expect(failed).toBeInstanceOf(SlurmCommandError);
    expect((failed as SlurmCommandError).controllerDown).toBe(true);
  });
});
