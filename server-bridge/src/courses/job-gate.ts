/**
 * Course job profiles at submit: which course profiles a user sees, the profile a course
 * name stands for, and the per-student limits (counted from `course_jobs` plus submits
 * still under way, so two quick submits cannot both slip under a limit). Submits under
 * way are rows of `course_job_admissions`, checked and added in one transaction, so the
 * limits hold across bridge replicas sharing the database.
 */
import { randomUUID } from 'node:crypto';
import type { IAuthUser } from '../auth/decide';
import type { ProfileConfig } from '../config';
import type { CourseJobAllowance, CourseJobList, Resources } from '../contract';
import { DomainError } from '../domain-error';
import {
  allowanceOf,
  checkCourseLimits,
  courseOfProfile,
  courseProfileName,
  formatHours,
  gpuHoursOf,
  kernelGpuHoursOf,
  type IStudentJobUse
} from './job-limits';
import type { Store } from '../store';
import { isTerminal, JobTable } from '../jobs/repository/jobs';
import { isKernelTerminal, KernelTable } from '../kernels/repository/kernels';
import { CourseAdmissionTable } from './repository/admissions';
import { CourseTable, type IJobProfileShare } from './repository/courses';

/** A course's job profile as jobs use it. */
export interface ICourseProfile extends ProfileConfig {
  course: string;
  reservation: string | null;
  limits: IJobProfileShare;
}

/** A submit the limits let through; `recorded` once the job is stored, `release` if it fails. */
export interface ICourseAdmission {
  /** Releases the admission when `work` fails. */
  until<T>(work: Promise<T>): Promise<T>;
  recorded(jobId: string): void;
}

/**
 * How long an admission counts without its submit ending: a replica that died
 * mid-submit frees the student's place after this long.
 */
const ADMISSION_HOLD_MS = 30 * 60 * 1000;

const NO_ADMISSION: ICourseAdmission = {
  until: work => work,
  recorded: () => undefined
};

function describeLimits(course: string, share: IJobProfileShare): string {
  const parts = [
    share.maxActiveJobs === null
      ? null
      : `at most ${share.maxActiveJobs} queued or running per student`,
    share.gpuHoursBudget === null
      ? null
      : `${formatHours(share.gpuHoursBudget)} GPU-hours per student`,
    share.reservation === null ? null : `reservation ${share.reservation}`
  ].filter(p => p !== null);
  return `Jobs of course ${course}${parts.length === 0 ? '' : `: ${parts.join(', ')}`}`;
}

export class CourseJobGate {
  private readonly table: CourseTable;
  private readonly jobs: JobTable;
  /** A course's kernels are its jobs too (`course_jobs` holds their ids). */
  private readonly kernels: KernelTable;
  /** Submits admitted and not yet stored. */
  private readonly admissions: CourseAdmissionTable;

  constructor(
    private readonly store: Store,
    private readonly profiles: readonly ProfileConfig[],
    private readonly now: () => number = Date.now
  ) {
    this.table = new CourseTable(store);
    this.jobs = new JobTable(store);
    this.kernels = new KernelTable(store);
    this.admissions = new CourseAdmissionTable(store);
  }

  /** The course's job profile, or null when it has none (or its base profile is gone). */
  profileOf(course: string): ICourseProfile | null {
    const share = this.table.get(course)?.jobProfile ?? null;
    const base =
      share === null
        ? undefined
        : this.profiles.find(p => p.name === share.baseProfile);
    if (share === null || base === undefined) {
      return null;
    }
    return {
      ...base,
      name: courseProfileName(course),
      title: `${this.table.get(course)?.title ?? course} (${base.title})`,
      description: describeLimits(course, share),
      course,
      reservation: share.reservation,
      limits: share
    };
  }

  /** Course profiles the instructor offers as cluster kernels, of the user's courses. */
  kernelProfilesFor(user: IAuthUser): ICourseProfile[] {
    return this.profilesFor(user).filter(p => p.limits.kernel);
  }

  /** Course profiles of the courses the user is a member of. */
  profilesFor(user: IAuthUser): ICourseProfile[] {
    return user.groups.map(g => this.profileOf(g)).filter(p => p !== null);
  }

  /**
   * The course profile `name` names; null when it is no course profile name. Throws 403
   * to a user outside the course and 400 when the course has no job profile.
   */
  resolve(user: IAuthUser, name: string): ICourseProfile | null {
    const course = courseOfProfile(name);
    if (course === null) {
      return null;
    }
    if (!user.groups.includes(course)) {
      throw new DomainError(
        'forbidden',
        `Profile ${name} is for members of course ${course} only`
      );
    }
    const profile = this.profileOf(course);
    if (profile === null) {
      throw new DomainError(
        'bad_request',
        `Course ${course} has no job profile: ask its instructor`
      );
    }
    return profile;
  }

  /** What the student's course jobs use now (stored jobs and submits under way). */
  use(course: string, student: string): IStudentJobUse {
    const nowMs = this.now();
    const activeJobIds: string[] = [];
    let gpuHoursUsed = 0;
    const ids = this.table.studentJobIds(course, student);
    for (const { job } of this.jobs.byIds(ids)) {
      gpuHoursUsed += gpuHoursOf(job, nowMs);
      if (!isTerminal(job.state)) {
        activeJobIds.push(job.id);
      }
    }
    for (const { kernel } of this.kernels.byIds(ids)) {
      gpuHoursUsed += kernelGpuHoursOf(kernel, nowMs);
      if (!isKernelTerminal(kernel.state)) {
        activeJobIds.push(kernel.id);
      }
    }
    const pending = this.admissions.count(
      course,
      student,
      new Date(nowMs).toISOString()
    );
    for (let i = 0; i < pending; i++) {
      activeJobIds.push('being submitted');
    }
    return { activeJobIds, gpuHoursUsed };
  }

  allowance(course: string, student: string): CourseJobAllowance | null {
    const profile = this.profileOf(course);
    return profile === null
      ? null
      : allowanceOf(profile.limits, this.use(course, student));
  }

  /** The course jobs of these members, newest first, at most `perMember` each. */
  recentJobs(
    course: string,
    members: readonly string[],
    perMember: number
  ): CourseJobList['jobs'] {
    const wanted = new Set(members);
    const ids = this.table
      .jobIds(course)
      .filter(({ student }) => wanted.has(student))
      .map(({ jobId }) => jobId);
    const counts = new Map<string, number>();
    return this.jobs
      .byIds(ids)
      .map(({ job }) => job)
      .filter(job => {
        const n = counts.get(job.owner) ?? 0;
        counts.set(job.owner, n + 1);
        return n < perMember;
      })
      .map(job => ({
        id: job.id,
        owner: job.owner,
        name: job.name,
        profile: job.profile,
        state: job.state,
        submittedAt: job.submittedAt,
        updatedAt: job.updatedAt
      }));
  }

  /** Students of the course who submitted course jobs. */
  students(course: string): string[] {
    return this.table.jobStudents(course);
  }

  /** Throws 429 `course_limit` when the job does not fit the student's limits. */
  check(
    user: IAuthUser,
    profile: ICourseProfile,
    resources: Resources,
    elements: number
  ): void {
    checkCourseLimits(
      profile.course,
      profile.limits,
      this.use(profile.course, user.name),
      { resources, elements }
    );
  }

  /** Checks the limits and holds the job's place until it is stored or fails. */
  admit(
    user: IAuthUser,
    profile: ICourseProfile | null,
    resources: Resources,
    elements: number
  ): ICourseAdmission {
    if (profile === null) {
      return NO_ADMISSION;
    }
    const id = randomUUID();
    this.store.exclusive(() => {
      const nowMs = this.now();
      this.admissions.dropExpired(new Date(nowMs).toISOString());
      this.check(user, profile, resources, elements);
      this.admissions.add(
        id,
        profile.course,
        user.name,
        new Date(nowMs + ADMISSION_HOLD_MS).toISOString()
      );
    });
    let open = true;
    const release = (): void => {
      if (open) {
        open = false;
        this.admissions.remove(id);
      }
    };
    return {
      until: async work => {
        try {
          return await work;
        } catch (e) {
          release();
          throw e;
        }
      },
      recorded: jobId => {
        // The job takes the admission's place in one step: never counted twice or not at all.
        this.store.exclusive(() => {
          this.table.addJob(
            jobId,
            profile.course,
            user.name,
            new Date(this.now()).toISOString()
          );
          release();
        });
      }
    };
  }
}
