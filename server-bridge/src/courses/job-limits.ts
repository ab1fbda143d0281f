/**
 * The per-student limits of a course's job profile, as pure functions: what a student's
 * course jobs use, what is left, and the sentence that refuses a job over a limit.
 */
import {
  type ClusterKernel,
  type CourseJobAllowance,
  type CourseJobLimits,
  type Job,
  type Resources,
  TERMINAL_KERNEL_STATES
} from '../contract';
import { DomainError } from '../domain-error';
import { withLiveElapsed } from '../jobs/track';

const PREFIX = 'course:';

/** The profile name students submit with. */
export function courseProfileName(course: string): string {
  return `${PREFIX}${course}`;
}

/** The course of a course profile name; null for any other profile. */
export function courseOfProfile(name: string): string | null {
  return name.startsWith(PREFIX) ? name.slice(PREFIX.length) : null;
}

/** What a student's course jobs use now. */
export interface IStudentJobUse {
  /** Their queued or running course jobs (and submits under way), oldest first. */
  activeJobIds: string[];
  gpuHoursUsed: number;
}

/** GPU-hours a job has used: elapsed × GPUs over its elements (running ones until now). */
export function gpuHoursOf(job: Job, nowMs: number): number {
  const live = withLiveElapsed(job, nowMs);
  const seconds = live.elements.reduce(
    (sum, e) => sum + (e.elapsedSeconds ?? 0),
    0
  );
  return (seconds * job.resources.gpus) / 3600;
}

/** A kernel's GPU-hours: from its job's start to its end (its last update) or now. */
export function kernelGpuHoursOf(kernel: ClusterKernel, nowMs: number): number {
  if (kernel.startedAt === null || kernel.startedAt === undefined) {
    return 0;
  }
  const end = TERMINAL_KERNEL_STATES.includes(kernel.state)
    ? Date.parse(kernel.updatedAt)
    : nowMs;
  const seconds = Math.max(0, (end - Date.parse(kernel.startedAt)) / 1000);
  return (seconds * kernel.resources.gpus) / 3600;
}

/** The GPU-hours a job asks for: its time limit × GPUs × elements. */
export function requestedGpuHours(
  resources: Pick<Resources, 'timeMinutes' | 'gpus'>,
  elements: number
): number {
  return (resources.timeMinutes * resources.gpus * elements) / 60;
}

/** Hours as people read them: at most three decimals, no trailing zeros. */
export function formatHours(hours: number): string {
  return String(Math.round(hours * 1000) / 1000);
}

const plural = (n: number, word: string): string =>
  `${n} ${word}${n === 1 ? '' : 's'}`;

export function allowanceOf(
  limits: CourseJobLimits,
  use: IStudentJobUse
): CourseJobAllowance {
  const { maxActiveJobs, gpuHoursBudget } = limits;
  return {
    activeJobIds: use.activeJobIds,
    maxActiveJobs,
    jobsLeft:
      maxActiveJobs === null
        ? null
        : Math.max(0, maxActiveJobs - use.activeJobIds.length),
    gpuHoursUsed: use.gpuHoursUsed,
    gpuHoursBudget,
    gpuHoursLeft:
      gpuHoursBudget === null
        ? null
        : Math.max(0, gpuHoursBudget - use.gpuHoursUsed)
  };
}

export interface ICourseJobRequest {
  resources: Pick<Resources, 'timeMinutes' | 'gpus'>;
  /** Array elements (1 for a single job). */
  elements: number;
}

/** Throws 429 `course_limit` with the rule and the numbers when the job does not fit. */
export function checkCourseLimits(
  course: string,
  limits: CourseJobLimits,
  use: IStudentJobUse,
  request: ICourseJobRequest
): void {
  const { maxActiveJobs, gpuHoursBudget } = limits;
  const active = use.activeJobIds;
  if (maxActiveJobs !== null && active.length >= maxActiveJobs) {
    throw new DomainError(
      'course_limit',
      `${course} allows ${plural(maxActiveJobs, 'queued or running job')} per student; you have ${active.length} (${active.length === 1 ? 'job' : 'jobs'} ${active.join(', ')}): wait until one ends or cancel one`,
      { rule: 'maxActiveJobs', limit: maxActiveJobs, activeJobIds: active }
    );
  }
  if (gpuHoursBudget === null) {
    return;
  }
  const used = use.gpuHoursUsed;
  const asked = requestedGpuHours(request.resources, request.elements);
  const details = {
    rule: 'gpuHoursBudget',
    limit: gpuHoursBudget,
    used,
    requested: asked
  };
  if (used >= gpuHoursBudget) {
    throw new DomainError(
      'course_limit',
      `${course} allows ${formatHours(gpuHoursBudget)} GPU-hours per student; you have used ${formatHours(used)}, so none are left`,
      details
    );
  }
  const left = gpuHoursBudget - used;
  if (asked > left) {
    const { gpus, timeMinutes } = request.resources;
    const elements =
      request.elements === 1 ? '' : ` × ${request.elements} elements`;
    throw new DomainError(
      'course_limit',
      `${course} allows ${formatHours(gpuHoursBudget)} GPU-hours per student; you have used ${formatHours(used)} (${formatHours(left)} left) and this job asks for ${formatHours(asked)} (${plural(gpus, 'GPU')} × ${timeMinutes} min${elements}): ask for less time or fewer GPUs`,
      details
    );
  }
}
