import type { CommandRegistry } from '@lumino/commands';
import type { ISignal } from '@lumino/signaling';
import type { Courses, ICourseApi } from './api';
import { CommandIDs } from '../commands';
import { PolledModel } from '../transport/PolledModel';

/** A course's settings as typed in the instructor's form (numbers as text). */
export interface ICourseForm {
  title: string;
  /** '' shares no endpoint. */
  endpointId: string;
  tokenBudget: string;
  /** '' means unlimited. */
  requestsPerMinute: string;
  /** '' shares no dataset. */
  datasetTier: string;
  datasetPath: string;
  /** '' gives the course no job profile; else the admin profile it is based on. */
  jobBaseProfile: string;
  /** '' runs outside any reservation. */
  jobReservation: string;
  /** '' means unlimited. */
  jobMaxActive: string;
  /** '' means unlimited. */
  jobGpuHours: string;
  /** The job profile is also a cluster kernel in the students' kernel picker. */
  jobKernel: boolean;
  /** Students may use the course endpoint for inline completion in the editor. */
  assistantCompletion: boolean;
  /** Students may use the course endpoint for chat in the editor. */
  assistantChat: boolean;
}

/** What the section shows of one course; the instructor's parts stay null for students. */
export interface ICourseDetails {
  course: Courses.Course;
  usage: Courses.StudentUsage[] | null;
  jobs: Courses.Job[] | null;
  dataset: Courses.DatasetList | null;
  /** Why the dataset could not be listed, in a sentence. */
  datasetError: string | null;
}

/** A positive number typed in a field; `what` names it in the error. */
function positiveNumber(text: string, what: string): number {
  const value = Number(text.trim().replace(',', '.'));
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${what} must be a number above 0.`);
  }
  return value;
}

const optional = <T>(text: string, parse: (t: string) => T): T | null =>
  text.trim() === '' ? null : parse(text);

/** A positive whole number typed in a field; `what` names it in the error. */
function positiveInteger(text: string, what: string): number {
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isInteger(value) || value <= 0) {
    throw new Error(`${what} must be a whole number above 0.`);
  }
  return value;
}

const RESERVATION = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
const hours = (h: number): string => String(Math.round(h * 100) / 100);

export namespace CourseForms {
  /** The fields of the form typed as text (the others are checkboxes). */
  /** The form's yes/no fields. */
  export type CheckField =
    'assistantCompletion' | 'assistantChat' | 'jobKernel';
  export type TextField = Exclude<keyof ICourseForm, CheckField>;

  /** The form of a course's current settings. */
  export function formOf(course: Courses.Course): ICourseForm {
    return {
      title: course.title,
      endpointId: course.endpoint?.id ?? '',
      tokenBudget: course.endpoint ? String(course.endpoint.tokenBudget) : '',
      requestsPerMinute:
        course.endpoint?.requestsPerMinute === null || course.endpoint === null
          ? ''
          : String(course.endpoint.requestsPerMinute),
      datasetTier: course.dataset?.tier ?? '',
      datasetPath: course.dataset?.path ?? '',
      jobBaseProfile: course.jobProfile?.baseProfile ?? '',
      jobReservation: course.jobProfile?.reservation ?? '',
      jobMaxActive: String(course.jobProfile?.maxActiveJobs ?? ''),
      jobGpuHours: String(course.jobProfile?.gpuHoursBudget ?? ''),
      jobKernel: course.jobProfile?.kernel ?? false,
      assistantCompletion: course.assistant.completion,
      assistantChat: course.assistant.chat
    };
  }

  /** The `PUT /courses/{course}` body of a filled-in form; throws a sentence when a field is wrong. */
  export function updateOf(form: ICourseForm): Courses.Update {
    const title = form.title.trim();
    if (title === '') {
      throw new Error('The course needs a title.');
    }
    let endpoint: Courses.Update['endpoint'] = null;
    if (form.endpointId !== '') {
      endpoint = {
        endpointId: form.endpointId,
        tokenBudget: positiveInteger(form.tokenBudget, 'The token budget'),
        requestsPerMinute:
          form.requestsPerMinute.trim() === ''
            ? null
            : positiveInteger(form.requestsPerMinute, 'Requests per minute')
      };
    }
    let dataset: Courses.Update['dataset'] = null;
    if (form.datasetTier !== '') {
      const path = form.datasetPath.trim().replace(/^\/+|\/+$/g, '');
      if (path === '') {
        throw new Error('Choose the folder of the dataset.');
      }
      dataset = { tier: form.datasetTier, path };
    }
    let jobProfile: Courses.Update['jobProfile'] = null;
    if (form.jobBaseProfile !== '') {
      const reservation = form.jobReservation.trim();
      if (reservation !== '' && !RESERVATION.test(reservation)) {
        throw new Error(
          'A reservation name has only letters, digits, ".", "_" and "-".'
        );
      }
      jobProfile = {
        baseProfile: form.jobBaseProfile,
        reservation: reservation === '' ? null : reservation,
        maxActiveJobs: optional(form.jobMaxActive, t =>
          positiveInteger(t, 'Jobs at a time per student')
        ),
        gpuHoursBudget: optional(form.jobGpuHours, t =>
          positiveNumber(t, 'GPU-hours per student')
        ),
        kernel: form.jobKernel
      };
    }
    const assistant = {
      completion: form.assistantCompletion,
      chat: form.assistantChat
    };
    return { title, endpoint, dataset, jobProfile, assistant };
  }

  /** The admin's profiles a course's job profile may be based on (not other courses'). */
  export function baseProfiles(profiles: Courses.Profile[]): Courses.Profile[] {
    return profiles.filter(p => p.course === undefined);
  }

  /** A student's course jobs against the limits, in one sentence; null without limits. */
  export function allowanceText(
    allowance: Courses.JobAllowance | null
  ): string | null {
    if (allowance === null) {
      return null;
    }
    const parts: string[] = [];
    if (allowance.maxActiveJobs !== null) {
      parts.push(
        `${allowance.activeJobIds.length} of ${allowance.maxActiveJobs} jobs at a time`
      );
    }
    if (allowance.gpuHoursBudget !== null) {
      parts.push(
        `${hours(allowance.gpuHoursUsed)} of ${hours(allowance.gpuHoursBudget)} GPU-hours used`
      );
    }
    return parts.length === 0 ? 'No limits' : parts.join(', ');
  }

  /** Whether the instructor has shared nothing yet: no endpoint, dataset or job profile. */
  export function isUnset(course: Courses.Course): boolean {
    return (
      course.endpoint === null &&
      course.dataset === null &&
      course.jobProfile === null
    );
  }

  /** The endpoints an instructor may share: their own. */
  export function ownEndpoints(
    endpoints: Courses.Endpoint[],
    me: string | null
  ): Courses.Endpoint[] {
    return endpoints.filter(e => e.owner === me);
  }
}

/**
 * The Course section's data: the courses the user teaches or takes (the section
 * shows only when there is one), and, while visible, each course's settings;
 * instructors also get per-student usage and job states, students the dataset.
 * A student's new key is handed to the caller once and never kept here.
 */
export class CourseModel extends PolledModel {
  constructor(options: CourseModel.IOptions) {
    super({
      name: 'courses',
      frequency: { interval: 30_000, backoff: true, max: 300_000 },
      auto: options.auto ?? true
    });
    this._api = options.api;
    this._commandExecuted = options.commandExecuted ?? null;
    this._commandExecuted?.connect(this._onCommandExecuted, this);
  }

  /** The user's courses; null until the first answer. */
  get courses(): Courses.Summary[] | null {
    return this._courses;
  }
  /** Whether the section shows: the user teaches or takes a course. */
  get hasCourses(): boolean {
    return (this._courses ?? []).length > 0;
  }
  /** Whether the user teaches any of their courses (the form needs endpoints and tiers). */
  get teaches(): boolean {
    return (this._courses ?? []).some(c => c.role === 'instructor');
  }
  /** Whether the user takes any of their courses (the key dialog needs the gateway URL). */
  get takes(): boolean {
    return (this._courses ?? []).some(c => c.role === 'student');
  }
  /** Whether the user takes `course` and its instructor has not set it up yet (nothing to load). */
  awaitsSetup(course: string): boolean {
    return (this._courses ?? []).some(
      c => c.name === course && c.role === 'student' && !c.configured
    );
  }
  details(course: string): ICourseDetails | null {
    return this._details.get(course) ?? null;
  }
  /** The instructor's own endpoints, offered for sharing. */
  get endpoints(): Courses.Endpoint[] {
    return CourseForms.ownEndpoints(this._endpoints, this._me);
  }
  /** The admin's profiles, offered as the base of the course's job profile. */
  get profiles(): Courses.Profile[] {
    return CourseForms.baseProfiles(this._profiles);
  }
  /** The tiers the user can read, offered for the dataset. */
  get tiers(): Courses.Tier[] {
    return this._tiers;
  }
  get gatewayUrl(): string | null {
    return this._gatewayUrl;
  }
  /** What the student's last new key left of their budget (this session). */
  tokensLeft(course: string): number | null {
    return this._tokensLeft.get(course) ?? null;
  }

  /** Starts polling (the plugin waits for the lab to be restored). */
  async start(): Promise<void> {
    await this.poll.start();
  }

  set visible(visible: boolean) {
    this._visible = visible;
    if (visible) {
      void this.refresh();
    }
  }

  /** Saves the form's settings; throws a sentence for a wrong field or the bridge's refusal. */
  async save(course: string, form: ICourseForm): Promise<void> {
    const saved = await this._api.update(course, CourseForms.updateOf(form));
    this._setCourse(saved);
    await this.refresh();
  }

  /**
   * Creates (or rotates) the student's key. The answer holds the key: the caller
   * shows it once; the model keeps only what it left of the budget.
   */
  async createKey(course: string): Promise<Courses.KeyCreated> {
    const created = await this._api.createKey(course);
    this._tokensLeft.set(course, created.tokensLeft);
    await this.refresh();
    return created;
  }

  async revokeKey(course: string, student: string): Promise<void> {
    const usage = await this._api.revokeKey(course, student);
    const details = this._details.get(course);
    if (details) {
      details.usage = usage.students;
    }
    this.emitChanged();
  }

  /** A file of the course's dataset. */
  download(course: string, path: string): Promise<Blob> {
    return this._api.datasetContent(course, path);
  }

  protected disposing(): void {
    this._commandExecuted?.disconnect(this._onCommandExecuted, this);
  }

  protected standby(): boolean | 'when-hidden' {
    return (this.hasCourses && !this._visible) || 'when-hidden';
  }

  protected async load(): Promise<void> {
    this._courses = await this._api.list();
    if (!this._visible) {
      return;
    }
    if (this.teaches) {
      if (this._me === null) {
        this._me = (await this._api.whoami()).name;
      }
      [this._endpoints, this._tiers, this._profiles] = await Promise.all([
        this._api.endpoints(),
        this._api.tiers(),
        this._api.profiles()
      ]);
    }
    if (this.takes && this._gatewayUrl === null) {
      this._gatewayUrl = await this._api.gatewayUrl();
    }
    const names = new Set(
      this._courses.filter(c => !this.awaitsSetup(c.name)).map(c => c.name)
    );
    for (const name of [...this._details.keys()]) {
      if (!names.has(name)) {
        this._details.delete(name);
      }
    }
    await Promise.all(
      this._courses
        .filter(c => !this.awaitsSetup(c.name))
        .map(c => this._loadCourse(c.name))
    );
  }

  private async _loadCourse(name: string): Promise<void> {
    const course = await this._api.get(name);
    const details: ICourseDetails = {
      course,
      usage: null,
      jobs: null,
      dataset: null,
      datasetError: null
    };
    if (course.role === 'instructor') {
      const [usage, jobs] = await Promise.all([
        this._api.usage(name),
        this._api.jobs(name)
      ]);
      details.usage = usage.students;
      details.jobs = jobs;
    } else if (course.dataset !== null) {
      try {
        details.dataset = await this._api.datasetFiles(name);
      } catch (error) {
        details.datasetError =
          error instanceof Error ? error.message : String(error);
      }
    }
    this._details.set(name, details);
  }

  /** The settings form offers the instructor's endpoints: a new one shows at once. */
  private _onCommandExecuted(
    _: unknown,
    executed: CommandRegistry.ICommandExecutedArgs
  ): void {
    if (executed.id === CommandIDs.createEndpoint) {
      void executed.result.then(
        () => this.refresh(),
        () => undefined
      );
    }
  }

  private _setCourse(course: Courses.Course): void {
    const details = this._details.get(course.name);
    if (details) {
      details.course = course;
    }
    this.emitChanged();
  }

  private readonly _api: ICourseApi;
  private readonly _commandExecuted: ISignal<
    unknown,
    CommandRegistry.ICommandExecutedArgs
  > | null;
  private _visible = false;
  private _me: string | null = null;
  private _courses: Courses.Summary[] | null = null;
  private readonly _details = new Map<string, ICourseDetails>();
  private _endpoints: Courses.Endpoint[] = [];
  private _tiers: Courses.Tier[] = [];
  private _profiles: Courses.Profile[] = [];
  private _gatewayUrl: string | null = null;
  private readonly _tokensLeft = new Map<string, number>();
}

export namespace CourseModel {
  export interface IOptions {
    api: ICourseApi;
    /** The application's `commandExecuted`: the model reloads after a new endpoint. */
    commandExecuted?: ISignal<unknown, CommandRegistry.ICommandExecutedArgs>;
    /** Start polling at once (default `true`). */
    auto?: boolean;
  }
}
