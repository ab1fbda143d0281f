/** A course's job profile offered to the class as a cluster kernel, with its limits. */
import { CourseTable } from '../../src/courses/repository/courses';
import type { IJobProfileShare } from '../../src/courses/repository/courses';
import { queueRecord } from './job-fakes';
import { ALICE, START, kernelFixture } from './kernel-fakes';
import { refusal } from './refusal';

type Fixture = ReturnType<typeof kernelFixture>;

const COURSE_START = { ...START, profile: 'course:ml101' };
const OUTSIDER = { ...ALICE, name: 'dave', groups: [] };

function shareProfile(f: Fixture, limits: Partial<IJobProfileShare> = {}) {
  new CourseTable(f.store).put({
    name: 'ml101',
    title: 'Machine learning 101',
    endpoint: null,
    dataset: null,
    assistant: { completion: false, chat: false },
    jobProfile: {
      baseProfile: 'batch-only',
      reservation: 'ml101-lab',
      maxActiveJobs: 1,
      gpuHoursBudget: null,
      kernel: true,
      ...limits
    },
    updatedBy: 'carol',
    updatedAt: '2026-12-07T09:00:00.000Z'
  });
}

describe('course kernels', () => {
  it('the class sees the course profile in the kernel picker once the instructor offers it', () => {
    const f = kernelFixture();
    shareProfile(f, { kernel: false });
    expect(f.service.specs(ALICE).map(s => s.name)).toEqual(['hpcb-cpu-small']);
    shareProfile(f);
    expect(f.service.specs(ALICE)).toContainEqual({
      name: 'hpcb-course-ml101',
      displayName: 'Python 3 on cluster — Machine learning 101 (Batch only)',
      profile: 'course:ml101',
      language: 'python'
    });
    expect(f.service.specs(OUTSIDER).map(s => s.name)).toEqual([
      'hpcb-cpu-small'
    ]);
  });

  it('submits on the course reservation; someone outside the course is refused', async () => {
    const f = kernelFixture();
    shareProfile(f);
    const k = await f.service.start(ALICE, COURSE_START);
    expect(k.profile).toBe('course:ml101');
    expect(f.cluster.scripts[0]?.script).toContain(
      '#SBATCH --reservation=ml101-lab'
    );
    const e = await refusal(f.service.start(OUTSIDER, COURSE_START));
    expect(e.message).toBe(
      'Profile "course:ml101" is not offered to you as a cluster kernel'
    );
    expect(f.cluster.scripts).toHaveLength(1);
  });

  it('a kernel counts against the one active job a student may have, until it ends', async () => {
    const f = kernelFixture();
    shareProfile(f);
    const k = await f.service.start(ALICE, COURSE_START);
    const second = await refusal(
      f.service.start(ALICE, {
        ...COURSE_START,
        jupyterKernelId: '1f3c2a9e-1111-4222-8333-944455556666'
      })
    );
    expect(second.code).toBe('course_limit');
    expect(f.courses.use('ml101', 'alice').activeJobIds).toEqual([k.id]);
    await f.service.stop(ALICE, k.id);
    expect(f.courses.use('ml101', 'alice').activeJobIds).toEqual([]);
  });

  it('two kernels started at once cannot both slip under the limit', async () => {
    const f = kernelFixture();
    shareProfile(f);
    const results = await Promise.allSettled(
      ['a', 'b', 'c'].map(n =>
        f.service.start(ALICE, {
          ...COURSE_START,
          jupyterKernelId: `${n}f3c2a9e-1111-4222-8333-944455556666`
        })
      )
    );
    expect(results.filter(r => r.status === 'fulfilled')).toHaveLength(1);
    expect(f.cluster.scripts).toHaveLength(1);
  });

  it('GPU-hours of a course kernel count from its start', async () => {
    const f = kernelFixture();
    shareProfile(f, { maxActiveJobs: null });
    const k = await f.service.start(ALICE, COURSE_START);
    const started = Date.parse('2026-12-07T10:00:00Z') / 1000;
    f.cluster.queue = [
      queueRecord('100', 'RUNNING', {
        startTime: started,
        endTime: started + 3600
      })
    ];
    await f.poller.tick();
    expect(f.service.get(ALICE, k.id).startedAt).toBe(
      '2026-12-07T10:00:00.000Z'
    );
    // The base profile has no GPUs: the time counts, at zero GPU-hours.
    f.clock.now += 30 * 60_000;
    expect(f.courses.use('ml101', 'alice').gpuHoursUsed).toBe(0);
    const rec = f.service.table.get(k.id)!;
    f.service.table.update({
      ...rec,
      kernel: { ...rec.kernel, resources: { ...rec.kernel.resources, gpus: 2 } }
    });
    expect(f.courses.use('ml101', 'alice').gpuHoursUsed).toBeCloseTo(1);
  });
});
