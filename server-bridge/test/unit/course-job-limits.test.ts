import type { Job } from '../../src/contract';
import {
  allowanceOf,
  checkCourseLimits,
  courseOfProfile,
  courseProfileName,
  gpuHoursOf
} from '../../src/courses/job-limits';

const budget = { maxActiveJobs: null, gpuHoursBudget: 2 };
const gpuJob = (timeMinutes: number, gpus: number, elements = 1) => ({
  resources: { timeMinutes, gpus },
  elements
});

function refusal(fn: () => void): { message: string; details: unknown } {
  try {
    fn();
  } catch (e) {
    const err = e as { code: string; message: string; details: unknown };
    expect(err.code).toBe('course_limit');
    return err;
  }
  throw new Error('not refused');
}

describe('course job limits', () => {
  test('a course profile name names its course and nothing else', () => {
    expect(courseProfileName('ml101')).toBe('course:ml101');
    expect(courseOfProfile('course:ml101')).toBe('ml101');
    expect(courseOfProfile('cpu-small')).toBeNull();
  });

  test('a job within the GPU-hours left passes', () => {
    expect(() =>
      checkCourseLimits(
        'ml101',
        budget,
        { activeJobIds: [], gpuHoursUsed: 1 },
        gpuJob(60, 1)
      )
    ).not.toThrow();
  });

  test('a job over the GPU-hours left is refused with the numbers', () => {
    const err = refusal(() =>
      checkCourseLimits(
        'ml101',
        budget,
        { activeJobIds: [], gpuHoursUsed: 1.5 },
        gpuJob(30, 2, 3)
      )
    );
    expect(err.message).toBe(
      'ml101 allows 2 GPU-hours per student; you have used 1.5 (0.5 left) and this job asks for 3 (2 GPUs × 30 min × 3 elements): ask for less time or fewer GPUs'
    );
    expect(err.details).toEqual({
      rule: 'gpuHoursBudget',
      limit: 2,
      used: 1.5,
      requested: 3
    });
  });

  test('a spent budget refuses even a CPU-only job', () => {
    const err = refusal(() =>
      checkCourseLimits(
        'ml101',
        budget,
        { activeJobIds: [], gpuHoursUsed: 2 },
        gpuJob(10, 0)
      )
    );
    expect(err.message).toMatch(/none are left/);
  });

  test('the allowance counts what is left and never below zero', () => {
    expect(
      allowanceOf(
        { maxActiveJobs: 2, gpuHoursBudget: 1 },
        { activeJobIds: ['a', 'b', 'c'], gpuHoursUsed: 1.25 }
      )
    ).toMatchObject({ jobsLeft: 0, gpuHoursLeft: 0 });
  });

  test('GPU-hours used add up elapsed time × GPUs over elements', () => {
    const job = {
      state: 'COMPLETED',
      resources: { timeMinutes: 60, cpus: 1, memoryMB: 100, gpus: 2 },
      elements: [
        { index: 0, state: 'COMPLETED', elapsedSeconds: 1800, startedAt: null },
        { index: 1, state: 'COMPLETED', elapsedSeconds: 900, startedAt: null }
      ]
    } as unknown as Job;
    expect(gpuHoursOf(job, Date.now())).toBeCloseTo(1.5);
  });
});
