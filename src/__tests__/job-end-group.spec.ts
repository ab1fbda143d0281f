/**
 * @jest-environment node
 */
import { type Job, JobSchema } from '@hpc-bridge/server/contract';
import { JobEndGroup } from '../jobs/JobEndGroup';
import { identityTrans, job } from './helpers';

function ended(id: string, name: string, state: Job['state']): Job {
  return JobSchema.parse(job({ id, name, state }));
}

describe('JobEndGroup', () => {
  const trans = identityTrans();
  const a = ended('a1', 'sweep-1', 'COMPLETED');
  const b = ended('b2', 'sweep-2', 'COMPLETED');
  const c = ended('c3', 'sweep-3', 'FAILED');

  it('groups the jobs that end within the window of the last one', () => {
    const group = new JobEndGroup(10_000);
    expect(group.add(a, 1_000)).toBe(true);
    expect(group.add(b, 9_000)).toBe(false);
    expect(group.add(c, 18_000)).toBe(false);
    expect(group.jobs.map(j => j.id)).toEqual(['a1', 'b2', 'c3']);

    expect(group.add(a, 28_001)).toBe(true);
    expect(group.jobs.map(j => j.id)).toEqual(['a1']);
  });

  it('keeps a job once when its end is told twice', () => {
    const group = new JobEndGroup(10_000);
    group.add(a, 0);
    group.add(a, 1);
    expect(group.jobs).toHaveLength(1);
  });

  it('starts over with one job when the notification was dismissed', () => {
    const group = new JobEndGroup(10_000);
    group.add(a, 0);
    group.add(b, 1);
    group.restart(c, 2);
    expect(group.jobs.map(j => j.id)).toEqual(['c3']);
    expect(group.add(a, 3)).toBe(false);
  });

  it('tells one job by name, id and state', () => {
    expect(JobEndGroup.summarize([a], trans)).toEqual({
      message: 'Job sweep-1 (a1): COMPLETED',
      type: 'success'
    });
  });

  it('tells several jobs in one message, an error when one failed', () => {
    expect(JobEndGroup.summarize([a, b, c], trans)).toEqual({
      message:
        '3 jobs finished: sweep-1 (COMPLETED), sweep-2 (COMPLETED), sweep-3 (FAILED)',
      type: 'error'
    });
    const cancelled = ended('d4', 'sweep-4', 'CANCELLED');
    expect(JobEndGroup.summarize([a, cancelled], trans).type).toBe('info');
    expect(JobEndGroup.summarize([a, b], trans).type).toBe('success');
  });

  it('names the first jobs of a big group and counts the rest', () => {
    const many = Array.from({ length: 7 }, (_, i) =>
      ended(`j${i}`, `run-${i}`, 'COMPLETED')
    );
    expect(JobEndGroup.summarize(many, trans).message).toBe(
      '7 jobs finished: run-0 (COMPLETED), run-1 (COMPLETED), run-2 (COMPLETED), run-3 (COMPLETED), 3 more'
    );
  });
});
