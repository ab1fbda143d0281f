/**
 * @jest-environment node
 */
import { CourseForms } from '../courses/CourseModel';
import { course, FORM, SHARED } from './course-fakes';

describe('CourseForms', () => {
  it('turns a filled-in form into the PUT body', () => {
    expect(CourseForms.updateOf(FORM)).toEqual({
      title: 'ML 101',
      endpoint: {
        endpointId: 'e1',
        tokenBudget: 5000,
        requestsPerMinute: null
      },
      dataset: { tier: 'archive', path: 'datasets/week1' },
      jobProfile: null,
      assistant: { completion: true, chat: false }
    });
    expect(
      CourseForms.updateOf({ ...FORM, requestsPerMinute: '30' }).endpoint
    ).toEqual({ endpointId: 'e1', tokenBudget: 5000, requestsPerMinute: 30 });
  });

  it('removes the shares when no endpoint or tier is chosen', () => {
    expect(
      CourseForms.updateOf({ ...FORM, endpointId: '', datasetTier: '' })
    ).toEqual({
      title: 'ML 101',
      endpoint: null,
      dataset: null,
      jobProfile: null,
      assistant: { completion: true, chat: false }
    });
  });

  it('refuses wrong fields with a sentence', () => {
    expect(() => CourseForms.updateOf({ ...FORM, tokenBudget: '' })).toThrow(
      'The token budget must be a whole number above 0.'
    );
    expect(() => CourseForms.updateOf({ ...FORM, tokenBudget: '1.5' })).toThrow(
      'The token budget must be a whole number above 0.'
    );
    expect(() =>
      CourseForms.updateOf({ ...FORM, requestsPerMinute: '-1' })
    ).toThrow('Requests per minute must be a whole number above 0.');
    expect(() => CourseForms.updateOf({ ...FORM, datasetPath: ' / ' })).toThrow(
      'Choose the folder of the dataset.'
    );
    expect(() => CourseForms.updateOf({ ...FORM, title: '  ' })).toThrow(
      'The course needs a title.'
    );
  });

  it('fills the form from the saved settings and back to the same body', () => {
    const saved = course({
      endpoint: { ...SHARED!, requestsPerMinute: 12 },
      dataset: { tier: 'archive', path: 'datasets/week1', owner: 'carol' },
      assistant: { completion: false, chat: true }
    });
    const form = CourseForms.formOf(saved);
    expect(form).toEqual({
      title: 'Machine learning 101',
      endpointId: 'e1',
      tokenBudget: '5000',
      requestsPerMinute: '12',
      datasetTier: 'archive',
      datasetPath: 'datasets/week1',
      jobBaseProfile: '',
      jobReservation: '',
      jobMaxActive: '',
      jobGpuHours: '',
      jobKernel: false,
      assistantCompletion: false,
      assistantChat: true
    });
    expect(CourseForms.updateOf(form)).toEqual({
      title: 'Machine learning 101',
      endpoint: { endpointId: 'e1', tokenBudget: 5000, requestsPerMinute: 12 },
      dataset: { tier: 'archive', path: 'datasets/week1' },
      jobProfile: null,
      assistant: { completion: false, chat: true }
    });
    expect(CourseForms.formOf(course())).toMatchObject({
      endpointId: '',
      tokenBudget: '',
      requestsPerMinute: '',
      datasetTier: ''
    });
  });
});

describe('CourseForms: the job profile', () => {
  const JOBS = { ...FORM, jobBaseProfile: 'cpu-small' };

  it('turns the job fields into a job profile share (empty: unlimited)', () => {
    expect(CourseForms.updateOf(JOBS).jobProfile).toEqual({
      baseProfile: 'cpu-small',
      reservation: null,
      maxActiveJobs: null,
      gpuHoursBudget: null,
      kernel: false
    });
    expect(
      CourseForms.updateOf({
        ...JOBS,
        jobReservation: ' ml101-lab ',
        jobMaxActive: '2',
        jobGpuHours: '1,5'
      }).jobProfile
    ).toEqual({
      baseProfile: 'cpu-small',
      reservation: 'ml101-lab',
      maxActiveJobs: 2,
      gpuHoursBudget: 1.5,
      kernel: false
    });
  });

  it('refuses wrong job fields with a sentence', () => {
    expect(() => CourseForms.updateOf({ ...JOBS, jobMaxActive: '0' })).toThrow(
      'Jobs at a time per student must be a whole number above 0.'
    );
    expect(() =>
      CourseForms.updateOf({ ...JOBS, jobGpuHours: 'lots' })
    ).toThrow('GPU-hours per student must be a number above 0.');
    expect(() =>
      CourseForms.updateOf({ ...JOBS, jobReservation: 'a b' })
    ).toThrow(/reservation name/);
  });

  it('fills the job fields from the saved profile', () => {
    const saved = course({
      jobProfile: {
        profile: 'course:ml101',
        baseProfile: 'cpu-small',
        partition: 'cpu',
        reservation: 'lab',
        maxActiveJobs: 1,
        gpuHoursBudget: 2.5,
        kernel: true
      }
    });
    expect(CourseForms.formOf(saved)).toMatchObject({
      jobBaseProfile: 'cpu-small',
      jobReservation: 'lab',
      jobMaxActive: '1',
      jobGpuHours: '2.5',
      jobKernel: true
    });
    expect(
      CourseForms.updateOf(CourseForms.formOf(saved)).jobProfile
    ).toMatchObject({ kernel: true });
  });

  it('says what a student has used of the limits', () => {
    expect(CourseForms.allowanceText(null)).toBeNull();
    expect(
      CourseForms.allowanceText({
        activeJobIds: ['j1'],
        maxActiveJobs: 2,
        jobsLeft: 1,
        gpuHoursUsed: 0.3333,
        gpuHoursBudget: 2,
        gpuHoursLeft: 1.6667
      })
    ).toBe('1 of 2 jobs at a time, 0.33 of 2 GPU-hours used');
  });
});
