/** Parsing of squeue/sacct output captured from this stack's SLURM 22.05. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  expandArrayTasks,
  parseJobsIn,
  parseRssMB,
  parseSacct,
  parseSbatchParsable,
  parseSqueue,
  parseTestOnly
} from '../../src/adapters/ssh/queue';
import { exitCodeOf, mapSlurmState } from '../../src/ports/slurm';

const fixture = (name: string): string =>
  readFileSync(join(__dirname, '..', 'fixtures', name), 'utf8');

describe('squeue --json', () => {
  it('expands a pending array range into one record per element', () => {
    const records = parseSqueue(JSON.parse(fixture('squeue-pending.json')));
    const keys = records.map(r => r.key);
    expect(keys).toEqual(
      expect.arrayContaining(['5', '6', '7_0', '7_1', '7_2', '8'])
    );
    const el = records.find(r => r.key === '7_1');
    expect(el).toMatchObject({
      baseId: 7,
      state: 'PENDING',
      reason: 'Resources',
      node: null,
      partition: 'cpu'
    });
    expect(records.find(r => r.key === '5')).toMatchObject({
      state: 'RUNNING',
      node: 'node1',
      reason: null
    });
  });

  it('keys running array elements by array id and index', () => {
    const records = parseSqueue(
      JSON.parse(fixture('squeue-array-running.json'))
    );
    expect(records.find(r => r.key === '7_0')).toMatchObject({
      jobId: 10,
      baseId: 7,
      state: 'RUNNING'
    });
    expect(records.find(r => r.key === '7_2')).toMatchObject({
      jobId: 7,
      state: 'PENDING'
    });
  });

  it('keeps finished jobs with their raw exit status', () => {
    const records = parseSqueue(JSON.parse(fixture('squeue-mixed.json')));
    const failed = records.find(r => r.key === '13');
    expect(failed?.state).toBe('FAILED');
    expect(exitCodeOf(failed?.exitStatus ?? -1)).toBe('3:0');
    expect(records.find(r => r.key === '15')).toMatchObject({
      state: 'PENDING',
      reason: 'JobHeldUser'
    });
  });

  it('expands every array task syntax', () => {
    expect(expandArrayTasks('0-2')).toEqual([0, 1, 2]);
    expect(expandArrayTasks('1,3-5%2')).toEqual([1, 3, 4, 5]);
    expect(expandArrayTasks('0-9:3')).toEqual([0, 3, 6, 9]);
    expect(expandArrayTasks('')).toEqual([]);
  });
});

describe('sacct --parsable2', () => {
  it('reads states, exit codes, times and folds steps in', () => {
    const recs = new Map(
      parseSacct(fixture('sacct-parsable.txt')).map(r => [r.key, r])
    );
    expect(recs.get('13')).toMatchObject({
      state: 'FAILED',
      exitCode: '3:0',
      node: 'node1'
    });
    expect(recs.get('14')).toMatchObject({ state: 'CANCELLED', node: null });
    expect(recs.get('7_2')).toMatchObject({
      state: 'COMPLETED',
      elapsedSeconds: 5,
      startTime: 1795602484,
      endTime: 1795602489
    });
    expect(recs.get('15')).toMatchObject({
      state: 'PENDING',
      startTime: null,
      reason: 'JobHeldUser'
    });
    expect([...recs.keys()].some(k => k.includes('.'))).toBe(false);
  });

  it('takes MaxRSS from the steps', () => {
    const [rec] = parseSacct(
      '12|COMPLETED|0:0||5|1|6|node1|None\n12.batch|COMPLETED|0:0|204800K|5|1|6|node1|\n12.0|COMPLETED|0:0|1.5G|5|1|6|node1|\n'
    );
    expect(rec?.maxRssMB).toBe(1536);
    expect(parseRssMB('')).toBeNull();
    expect(parseRssMB('512M')).toBe(512);
  });
});

describe('jobs in a working directory (sacct JobID|WorkDir, squeue %F|%Z)', () => {
  it('answers the base ids of the jobs there, arrays folded, other folders left out', () => {
    const out = [
      '101|/home/alice/.hpc-bridge/jobs/abc',
      '102_3|/home/alice/.hpc-bridge/jobs/abc/',
      '103_[0-4]|/home/alice/.hpc-bridge/jobs/abc',
      '104|/home/alice/.hpc-bridge/jobs/abcd',
      'garbage',
      ''
    ].join('\n');
    expect(parseJobsIn(out, '/home/alice/.hpc-bridge/jobs/abc')).toEqual([
      '101',
      '102',
      '103'
    ]);
  });
});

describe('sbatch', () => {
  it('parses --parsable output with and without a cluster', () => {
    expect(parseSbatchParsable('123\n')).toBe('123');
    expect(parseSbatchParsable('124;demo\n')).toBe('124');
    expect(() => parseSbatchParsable('sbatch: error')).toThrow(/unexpected/);
  });

  it('parses the expected start of --test-only, ignoring nonsense dates', () => {
    expect(
      parseTestOnly(
        'sbatch: Job 9 to start at 2026-11-25T10:30:00 using 1 processors on nodes node1 in partition cpu\n'
      )
    ).toEqual({
      expectedStart: '2026-11-25T10:30:00.000Z',
      message:
        'Job 9 to start at 2026-11-25T10:30:00 using 1 processors on nodes node1 in partition cpu'
    });
    // Seen on this stack while the node was busy.
    expect(
      parseTestOnly(
        'sbatch: Job 9 to start at 14276-02-02T16:48:37 using 1 processors'
      ).expectedStart
    ).toBeNull();
  });

  it('maps SLURM states onto the contract', () => {
    expect(mapSlurmState('CANCELLED by 1001')).toBe('CANCELLED');
    expect(mapSlurmState('OUT_OF_MEMORY')).toBe('OUT_OF_MEMORY');
    expect(mapSlurmState('CONFIGURING')).toBe('PENDING');
    expect(mapSlurmState('WEIRD')).toBe('UNKNOWN');
  });
});
