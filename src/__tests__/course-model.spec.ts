/**
 * @jest-environment node
 */
import type { CommandRegistry } from '@lumino/commands';
import { Signal } from '@lumino/signaling';
import { CommandIDs } from '../commands';
import type { Courses, ICourseApi } from '../courses/api';
import {
  CourseForms,
  CourseModel,
  type ICourseForm
} from '../courses/CourseModel';
import { endpoint } from './endpoints-fakes';

const NOW = '2026-03-01T10:00:00.000Z';
const SECRET = 'hpcb_secret-key-for-alice';

function course(overrides: Partial<Courses.Course> = {}): Courses.Course {
  return {
    name: 'ml101',
    title: 'Machine learning 101',
    role: 'student',
    updatedBy: null,
    updatedAt: null,
    endpoint: null,
    dataset: null,
    myKey: null,
    myBudgetLeft: null,
    jobProfile: null,
    myJobs: null,
    ...overrides
  };
}

const SHARED: Courses.Course['endpoint'] = {
  id: 'e1',
  name: 'course-llm',
  model: 'tiny-random',
  state: 'ready',
  tokenBudget: 5000,
  requestsPerMinute: null
};

/** The course routes answered from memory, recording what the model sent. */
class FakeCourseApi implements ICourseApi {
  constructor(
    public roles: Record<string, Courses.Course['role']>,
    public stored: Courses.Course = course()
  ) {}
  updates: Courses.Update[] = [];
  keysCreated = 0;
  calls: string[] = [];

  async whoami(): Promise<{ name: string }> {
    return { name: 'carol' };
  }
  /** Courses whose instructor has saved no settings yet. */
  unconfigured = new Set<string>();

  async list(): Promise<Courses.Summary[]> {
    return Object.entries(this.roles).map(([name, role]) => ({
      name,
      title: name,
      role,
      configured: !this.unconfigured.has(name)
    }));
  }
  async get(name: string): Promise<Courses.Course> {
    this.calls.push(`get ${name}`);
    return { ...this.stored, name, role: this.roles[name] };
  }
  async update(name: string, update: Courses.Update): Promise<Courses.Course> {
    this.updates.push(update);
    this.stored = {
      ...this.stored,
      title: update.title ?? this.stored.title,
      updatedBy: 'carol',
      updatedAt: NOW
    };
    return this.get(name);
  }
  async createKey(): Promise<Courses.KeyCreated> {
    this.keysCreated += 1;
    this.stored = {
      ...this.stored,
      myKey: { prefix: 'hpcb_secr', createdAt: NOW, revokedAt: null }
    };
    return {
      key: SECRET,
      prefix: 'hpcb_secr',
      endpointId: 'e1',
      model: 'tiny-random',
      tokenBudget: 5000,
      tokensLeft: 4200,
      requestsPerMinute: null
    };
  }
  async revokeKey(): Promise<Courses.Usage> {
    return { endpointId: 'e1', students: [] };
  }
  async usage(): Promise<Courses.Usage> {
    this.calls.push('usage');
    return {
      endpointId: 'e1',
      students: [
        {
          student: 'alice',
          key: null,
          requests: 2,
          tokensUsed: 800,
          tokenBudget: 5000,
          jobs: null,
          budgetLeft: 4200
        }
      ]
    };
  }
  async jobs(): Promise<Courses.Job[]> {
    this.calls.push('jobs');
    return [];
  }
  async datasetFiles(): Promise<Courses.DatasetList> {
    this.calls.push('dataset');
    return { tier: 'archive', path: '', entries: [] };
  }
  async datasetContent(): Promise<Blob> {
    return new Blob(['a,b\n']);
  }
  async endpoints(): Promise<Courses.Endpoint[]> {
    this.calls.push('endpoints');
    return [
      endpoint({ id: 'e1', owner: 'carol' }),
      endpoint({ id: 'e2', owner: 'alice' })
    ];
  }
  async tiers(): Promise<Courses.Tier[]> {
    this.calls.push('tiers');
    return [];
  }
  async profiles(): Promise<Courses.Profile[]> {
    this.calls.push('profiles');
    const range = { default: 1, min: 1, max: 4 };
    const base = {
      cluster: 'demo',
      timeMinutes: range,
      cpus: range,
      memoryMB: range,
      gpus: range
    };
    return [
      { ...base, name: 'cpu-small', title: 'CPU', partition: 'cpu' },
      {
        ...base,
        name: 'course:ml101',
        title: 'ML 101 (CPU)',
        partition: 'cpu',
        course: 'ml101'
      }
    ];
  }
  async gatewayUrl(): Promise<string> {
    this.calls.push('gateway');
    return 'http://127.0.0.1:8000/v1';
  }
}

async function visibleModel(api: FakeCourseApi): Promise<CourseModel> {
  const model = new CourseModel({ api, auto: false });
  model.visible = true;
  await model.refresh();
  return model;
}

const FORM: ICourseForm = {
  title: ' ML 101 ',
  endpointId: 'e1',
  tokenBudget: '5000',
  requestsPerMinute: '',
  datasetTier: 'archive',
  datasetPath: '/datasets/week1/',
  jobBaseProfile: '',
  jobReservation: '',
  jobMaxActive: '',
  jobGpuHours: ''
};

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
      jobProfile: null
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
      jobProfile: null
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
      dataset: { tier: 'archive', path: 'datasets/week1', owner: 'carol' }
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
      jobGpuHours: ''
    });
    expect(CourseForms.updateOf(form)).toEqual({
      title: 'Machine learning 101',
      endpoint: { endpointId: 'e1', tokenBudget: 5000, requestsPerMinute: 12 },
      dataset: { tier: 'archive', path: 'datasets/week1' },
      jobProfile: null
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
      gpuHoursBudget: null
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
      gpuHoursBudget: 1.5
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
        gpuHoursBudget: 2.5
      }
    });
    expect(CourseForms.formOf(saved)).toMatchObject({
      jobBaseProfile: 'cpu-small',
      jobReservation: 'lab',
      jobMaxActive: '1',
      jobGpuHours: '2.5'
    });
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

describe('CourseModel: roles', () => {
  it('hides the section without courses', async () => {
    const model = await visibleModel(new FakeCourseApi({}));
    expect(model.hasCourses).toBe(false);
    expect(model.teaches).toBe(false);
    expect(model.takes).toBe(false);
    model.dispose();
  });

  it('gives an instructor usage, jobs and only their own endpoints', async () => {
    const api = new FakeCourseApi({ ml101: 'instructor' });
    const model = await visibleModel(api);
    expect(model.hasCourses).toBe(true);
    expect(model.teaches).toBe(true);
    expect(model.takes).toBe(false);
    expect(model.endpoints.map(e => e.id)).toEqual(['e1']);
    // Another course's profile is no base for this one's.
    expect(model.profiles.map(p => p.name)).toEqual(['cpu-small']);
    const details = model.details('ml101');
    expect(details?.usage?.map(s => s.student)).toEqual(['alice']);
    expect(details?.jobs).toEqual([]);
    expect(api.calls).not.toContain('gateway');
    model.dispose();
  });

  it('gives a student the gateway and the dataset, never the usage of others', async () => {
    const api = new FakeCourseApi(
      { ml101: 'student' },
      course({
        endpoint: SHARED,
        dataset: { tier: 'archive', path: 'd', owner: 'carol' }
      })
    );
    const model = await visibleModel(api);
    expect(model.takes).toBe(true);
    expect(model.gatewayUrl).toBe('http://127.0.0.1:8000/v1');
    const details = model.details('ml101');
    expect(details?.usage).toBeNull();
    expect(details?.jobs).toBeNull();
    expect(details?.dataset?.tier).toBe('archive');
    expect(api.calls).not.toContain('usage');
    expect(api.calls).not.toContain('endpoints');
    model.dispose();
  });

  it('shows a student the course their instructor has not set up, and asks nothing more of it', async () => {
    const api = new FakeCourseApi({ ml101: 'student', nlp201: 'student' });
    api.unconfigured.add('nlp201');
    const model = await visibleModel(api);
    expect(model.hasCourses).toBe(true);
    expect(model.awaitsSetup('nlp201')).toBe(true);
    expect(model.awaitsSetup('ml101')).toBe(false);
    expect(model.details('nlp201')).toBeNull();
    expect(model.details('ml101')?.course.name).toBe('ml101');
    expect(api.calls).not.toContain('get nlp201');
    // Once the instructor saves it, the student's course loads like any other.
    api.unconfigured.clear();
    await model.refresh();
    expect(model.awaitsSetup('nlp201')).toBe(false);
    expect(model.details('nlp201')?.course.name).toBe('nlp201');
    model.dispose();
  });

  it('never counts an instructor as waiting for the setup', async () => {
    const api = new FakeCourseApi({ ml101: 'instructor' });
    api.unconfigured.add('ml101');
    const model = await visibleModel(api);
    expect(model.awaitsSetup('ml101')).toBe(false);
    expect(model.details('ml101')?.usage).not.toBeNull();
    model.dispose();
  });

  it('loads only the list while the section is not visible', async () => {
    const api = new FakeCourseApi({ ml101: 'instructor' });
    const model = new CourseModel({ api, auto: false });
    await model.refresh();
    expect(model.hasCourses).toBe(true);
    expect(model.details('ml101')).toBeNull();
    expect(api.calls).toEqual([]);
    model.dispose();
  });
});

describe('CourseModel: actions', () => {
  it('sends the form as the PUT body and shows the saved course', async () => {
    const api = new FakeCourseApi({ ml101: 'instructor' });
    const model = await visibleModel(api);
    await model.save('ml101', FORM);
    expect(api.updates).toEqual([CourseForms.updateOf(FORM)]);
    expect(model.details('ml101')?.course.updatedBy).toBe('carol');
    await expect(
      model.save('ml101', { ...FORM, tokenBudget: 'lots' })
    ).rejects.toThrow('The token budget must be a whole number above 0.');
    expect(api.updates).toHaveLength(1);
    model.dispose();
  });

  it('hands the new key to the caller once and keeps only the budget left', async () => {
    const api = new FakeCourseApi(
      { ml101: 'student' },
      course({ endpoint: SHARED })
    );
    const model = await visibleModel(api);
    expect(model.tokensLeft('ml101')).toBeNull();
    const created = await model.createKey('ml101');
    expect(created.key).toBe(SECRET);
    expect(api.keysCreated).toBe(1);
    expect(model.tokensLeft('ml101')).toBe(4200);
    expect(model.details('ml101')?.course.myKey?.prefix).toBe('hpcb_secr');
    const kept = JSON.stringify({
      courses: model.courses,
      details: model.details('ml101'),
      gateway: model.gatewayUrl
    });
    expect(kept).not.toContain(SECRET);
    model.dispose();
  });
});

describe('CourseModel: the application commands', () => {
  /** Counts the course list requests. */
  class CountingApi extends FakeCourseApi {
    lists = 0;
    async list(): Promise<Courses.Summary[]> {
      this.lists += 1;
      return super.list();
    }
  }

  /** Stands for the application's commands: runs a command and tells who listens. */
  class FakeCommands {
    readonly commandExecuted = new Signal<
      this,
      CommandRegistry.ICommandExecutedArgs
    >(this);
    async execute(id: string): Promise<void> {
      const result = Promise.resolve(
        id === CommandIDs.createEndpoint ? 'e3' : null
      );
      this.commandExecuted.emit({ id, args: {}, result });
      await result;
    }
  }

  const settled = () => new Promise(resolve => setTimeout(resolve, 0));

  it('reloads after a new endpoint, not after other commands', async () => {
    const api = new CountingApi({ ml101: 'instructor' });
    const commands = new FakeCommands();
    const model = new CourseModel({
      api,
      commandExecuted: commands.commandExecuted,
      auto: false
    });
    // The instructor's section is on screen: a hidden one rests.
    model.visible = true;
    await model.refresh();
    const listsBefore = api.lists;
    const refresh = jest.spyOn(model, 'refresh');
    await commands.execute('other:command');
    await settled();
    expect(refresh).not.toHaveBeenCalled();
    await commands.execute(CommandIDs.createEndpoint);
    await settled();
    expect(refresh).toHaveBeenCalledTimes(1);
    await refresh.mock.results[0].value;
    model.dispose();
    expect(api.lists).toBe(listsBefore + 1);
  });

  it('lets go of the commands when disposed', async () => {
    const api = new CountingApi({ ml101: 'instructor' });
    const commands = new FakeCommands();
    const model = new CourseModel({
      api,
      commandExecuted: commands.commandExecuted,
      auto: false
    });
    await model.refresh();
    const refresh = jest.spyOn(model, 'refresh');
    model.dispose();
    expect(model.isDisposed).toBe(true);
    await commands.execute(CommandIDs.createEndpoint);
    await settled();
    expect(refresh).not.toHaveBeenCalled();
    expect(api.lists).toBe(1);
  });
});
