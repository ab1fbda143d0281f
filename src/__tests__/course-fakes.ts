/** A course API the course model tests drive, and its fixtures. */
import type { Courses, ICourseApi } from '../courses/api';
import { CourseModel, type ICourseForm } from '../courses/CourseModel';
import { endpoint } from './endpoints-fakes';
export const NOW = '2026-03-01T10:00:00.000Z';
export const SECRET = 'hpcb_secret-key-for-alice';

export function course(
  overrides: Partial<Courses.Course> = {}
): Courses.Course {
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
    assistant: { completion: false, chat: false },
    ...overrides
  };
}

export const SHARED: Courses.Course['endpoint'] = {
  id: 'e1',
  name: 'course-llm',
  model: 'tiny-random',
  state: 'ready',
  tokenBudget: 5000,
  requestsPerMinute: null
};

/** The course routes answered from memory, recording what the model sent. */
export class FakeCourseApi implements ICourseApi {
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
          budgetLeft: 4200,
          completionTokens: 300,
          chatTokens: 100
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

export async function visibleModel(api: FakeCourseApi): Promise<CourseModel> {
  const model = new CourseModel({ api, auto: false });
  model.visible = true;
  await model.refresh();
  return model;
}

export const FORM: ICourseForm = {
  title: ' ML 101 ',
  endpointId: 'e1',
  tokenBudget: '5000',
  requestsPerMinute: '',
  datasetTier: 'archive',
  datasetPath: '/datasets/week1/',
  jobBaseProfile: '',
  jobReservation: '',
  jobMaxActive: '',
  jobGpuHours: '',
  jobKernel: false,
  assistantCompletion: true,
  assistantChat: false
};
