/**
 * Course mode (issue 7, item 2). Who may call what is decided by the routes' course
 * policy (src/auth/policy.ts); this service holds the rules of sharing:
 * - one endpoint key per student, bound to the course endpoint; a student's budget is
 *   per course, not per key: a rotated key gets what is left of it;
 * - the dataset is read as the instructor who shared it, below the shared folder only,
 *   and never written;
 * - the instructor sees the members' job states, never their notebooks or outputs;
 * - the job profile is one of the admin's profiles with a reservation and per-student
 *   limits, enforced at submit by `CourseJobGate` (jobs/service.ts).
 */
import type { GroupDirectory } from '../admin/hub-groups';
import type { IAuthUser } from '../auth/decide';
import type { ProfileConfig } from '../config';
import {
  type Course,
  type CourseDatasetList,
  type CourseJobList,
  type CourseKeyCreated,
  type CourseList,
  type CourseUpdate,
  type CourseUsage,
  type Endpoint
} from '../contract';
import { CourseJobGate } from './job-gate';
import type { EndpointKeys } from '../endpoints/keys';
import type { EndpointService } from '../endpoints/service';
import type { EndpointUsage } from '../endpoints/usage';
import { DomainError } from '../domain-error';
import type { IContent } from '../storage/files';
import type { StorageService } from '../storage/service';
import type { Store } from '../store';
import {
  CourseTable,
  type ICourseRecord,
  type IDatasetShare,
  type IEndpointShare,
  type IJobProfileShare
} from './repository/courses';
import { CourseDataset } from './dataset';
import { CourseKeys } from './course-keys';
import { keyStatus, type IStudentKeys } from './student-keys';
import { AssistantUsageTable } from '../assistant/repository/usage';

export interface ICourseServiceDeps {
  store: Store;
  endpoints?: EndpointService;
  keys?: { keys: EndpointKeys; usage: EndpointUsage };
  storage?: StorageService;
  groups?: GroupDirectory;
  /** The admin's job profiles (config `profiles`): a course's job profile is based on one. */
  profiles?: readonly ProfileConfig[];
  /** Config `roles.instructorGroupSuffix`: group G is a course when G + suffix exists. */
  instructorGroupSuffix?: string;
  now?: () => number;
}

/** Jobs shown per member in the course's job list. */
const JOBS_PER_MEMBER = 50;

const ASSISTANT_OFF = { completion: false, chat: false } as const;

export class CourseService {
  /** Students' keys of the course endpoints (the editor's assistant uses them too). */
  readonly keys: CourseKeys;
  private readonly table: CourseTable;
  private readonly assistantUsage: AssistantUsageTable;
  private readonly gate: CourseJobGate;
  private readonly dataset: CourseDataset;
  private readonly now: () => number;

  constructor(private readonly deps: ICourseServiceDeps) {
    this.table = new CourseTable(deps.store);
    this.now = deps.now ?? Date.now;
    this.gate = new CourseJobGate(deps.store, deps.profiles ?? [], this.now);
    this.dataset = new CourseDataset(this.table, deps.store, deps.storage);
    this.assistantUsage = new AssistantUsageTable(deps.store);
    this.keys = new CourseKeys({
      table: this.table,
      store: deps.store,
      ...(deps.endpoints === undefined ? {} : { endpoints: deps.endpoints }),
      ...(deps.keys === undefined ? {} : { keys: deps.keys })
    });
  }

  /**
   * Courses the user teaches (with or without settings) and those they take: groups
   * with settings, and groups with an instructors' group whose instructor has not
   * saved settings yet (`configured: false`; known only while the hub's group list is).
   */
  async list(user: IAuthUser): Promise<CourseList> {
    const withSettings = this.table.names();
    const summary = (name: string, role: 'instructor' | 'student') => ({
      name,
      title: this.table.get(name)?.title ?? name,
      role,
      configured: withSettings.has(name)
    });
    const teaching = user.instructorOf.map(name => summary(name, 'instructor'));
    const memberOf = user.groups.filter(g => !user.instructorOf.includes(g));
    const courses = await this.coursesAmong(
      memberOf.filter(g => !withSettings.has(g))
    );
    const taking = memberOf
      .filter(g => withSettings.has(g) || courses.has(g))
      .map(name => summary(name, 'student'));
    return {
      courses: [...teaching, ...taking].sort((a, b) =>
        a.name.localeCompare(b.name)
      )
    };
  }

  /** Those of `groups` that have an instructors' group in the hub; none when its list is not at hand. */
  private async coursesAmong(groups: string[]): Promise<Set<string>> {
    if (groups.length === 0 || this.deps.groups === undefined) {
      return new Set();
    }
    const suffix = this.deps.instructorGroupSuffix ?? '-instructors';
    try {
      const directory = await this.deps.groups();
      return new Set(groups.filter(g => directory.has(`${g}${suffix}`)));
    } catch {
      return new Set();
    }
  }

  /** The course as the caller sees it (the route's policy let them in). */
  view(user: IAuthUser, course: string): Course {
    const rec = this.table.get(course);
    const teaches = user.instructorOf.includes(course) || user.admin;
    const role = teaches ? 'instructor' : 'student';
    const endpoint = rec?.endpoint ?? null;
    const ep =
      endpoint === null
        ? undefined
        : this.deps.endpoints?.shared(endpoint.endpointId);
    const mine =
      role === 'student' && endpoint !== null
        ? this.studentKeys(course, endpoint.endpointId).get(user.name)
        : undefined;
    const jobProfile = this.gate.profileOf(course);
    return {
      name: course,
      title: rec?.title ?? course,
      role,
      updatedBy: rec?.updatedBy ?? null,
      updatedAt: rec?.updatedAt ?? null,
      endpoint:
        endpoint === null || ep === undefined
          ? null
          : {
              id: ep.id,
              name: ep.name,
              model: ep.model,
              state: ep.state,
              tokenBudget: endpoint.tokenBudget,
              requestsPerMinute: endpoint.requestsPerMinute
            },
      dataset:
        rec?.dataset === undefined || rec.dataset === null
          ? null
          : {
              tier: rec.dataset.tier,
              path: rec.dataset.path,
              owner: rec.dataset.owner
            },
      myKey: keyStatus(mine?.active ?? null),
      myBudgetLeft:
        role === 'student' && endpoint !== null
          ? Math.max(0, endpoint.tokenBudget - (mine?.tokensUsed ?? 0))
          : null,
      jobProfile:
        jobProfile === null
          ? null
          : {
              profile: jobProfile.name,
              baseProfile: jobProfile.limits.baseProfile,
              partition: jobProfile.partition,
              reservation: jobProfile.reservation,
              maxActiveJobs: jobProfile.limits.maxActiveJobs,
              gpuHoursBudget: jobProfile.limits.gpuHoursBudget,
              kernel: jobProfile.limits.kernel
            },
      myJobs:
        role === 'student' && jobProfile !== null
          ? this.gate.allowance(course, user.name)
          : null,
      assistant: rec?.assistant ?? ASSISTANT_OFF
    };
  }

  /** An instructor changes the course's settings. */
  async update(
    user: IAuthUser,
    course: string,
    patch: CourseUpdate
  ): Promise<Course> {
    const old = this.table.get(course);
    let endpoint: IEndpointShare | null = old?.endpoint ?? null;
    if (patch.endpoint !== undefined) {
      endpoint =
        patch.endpoint === null
          ? null
          : {
              endpointId: patch.endpoint.endpointId,
              tokenBudget: patch.endpoint.tokenBudget,
              requestsPerMinute: patch.endpoint.requestsPerMinute ?? null
            };
      if (endpoint !== null) {
        this.checkOwnEndpoint(user, endpoint.endpointId);
      }
    }
    let dataset: IDatasetShare | null = old?.dataset ?? null;
    if (patch.dataset !== undefined) {
      dataset =
        patch.dataset === null
          ? null
          : await this.dataset.check(
              user,
              patch.dataset.tier,
              patch.dataset.path
            );
    }
    let jobProfile: IJobProfileShare | null = old?.jobProfile ?? null;
    if (patch.jobProfile !== undefined) {
      jobProfile =
        patch.jobProfile === null
          ? null
          : this.checkJobProfile(patch.jobProfile);
    }
    const record: ICourseRecord = {
      name: course,
      title: patch.title ?? old?.title ?? null,
      endpoint,
      dataset,
      jobProfile,
      assistant: patch.assistant ?? old?.assistant ?? ASSISTANT_OFF,
      updatedBy: user.name,
      updatedAt: new Date(this.now()).toISOString()
    };
    this.applyEndpointChange(course, old?.endpoint ?? null, endpoint);
    this.table.put(record);
    this.deps.store.audit({
      user: user.name,
      action: 'course.update',
      target: course,
      details: {
        endpoint: endpoint?.endpointId ?? null,
        tokenBudget: endpoint?.tokenBudget ?? null,
        dataset: dataset === null ? null : `${dataset.tier}:${dataset.path}`,
        jobProfile,
        assistant: record.assistant
      }
    });
    return this.view(user, course);
  }

  /** A student gets a new key for the course endpoint; an older one is revoked. */
  createKey(user: IAuthUser, course: string): CourseKeyCreated {
    const { key, record, share, endpoint, tokensLeft } = this.keys.issue(
      user,
      course
    );
    return {
      key,
      prefix: record.prefix,
      endpointId: share.endpointId,
      model: endpoint.model,
      tokenBudget: share.tokenBudget,
      tokensLeft,
      requestsPerMinute: share.requestsPerMinute
    };
  }

  /** An instructor revokes a student's key. */
  revokeKey(user: IAuthUser, course: string, student: string): CourseUsage {
    const { keys } = this.keysOrFail();
    const share = this.table.get(course)?.endpoint ?? null;
    const active =
      share === null
        ? null
        : (this.studentKeys(course, share.endpointId).get(student)?.active ??
          null);
    if (share === null || active === null) {
      throw new DomainError(
        'not_found',
        `${student} has no active key in course ${course}`
      );
    }
    keys.revoke(share.endpointId, active.id);
    this.deps.store.audit({
      user: user.name,
      action: 'course.key.revoke',
      target: course,
      details: { student, keyId: active.id }
    });
    return this.usage(course);
  }

  /** Requests, tokens and budget left per student (members without a key too). */
  async usageWithMembers(course: string): Promise<CourseUsage> {
    const members = await this.membersIfKnown(course);
    return this.usage(course, members ?? []);
  }

  /** Per student: tokens on the course endpoint and course jobs against the limits. */
  usage(course: string, members: readonly string[] = []): CourseUsage {
    const share = this.table.get(course)?.endpoint ?? null;
    const jobs = this.gate.profileOf(course);
    if (share === null && jobs === null) {
      return { endpointId: null, students: [] };
    }
    const byStudent =
      share === null
        ? new Map<string, IStudentKeys>()
        : this.studentKeys(course, share.endpointId);
    const names = new Set([
      ...byStudent.keys(),
      ...members,
      ...(jobs === null ? [] : this.gate.students(course))
    ]);
    const tokenBudget = share?.tokenBudget ?? 0;
    const assistant =
      share === null
        ? new Map<string, { completion: number; chat: number }>()
        : this.assistantUsage.byUser(share.endpointId);
    return {
      endpointId: share?.endpointId ?? null,
      students: [...names].sort().map(student => {
        const k = byStudent.get(student);
        const tokensUsed = k?.tokensUsed ?? 0;
        return {
          student,
          key: keyStatus(k?.active ?? null),
          requests: k?.requests ?? 0,
          tokensUsed,
          tokenBudget,
          budgetLeft: Math.max(0, tokenBudget - tokensUsed),
          jobs: jobs === null ? null : this.gate.allowance(course, student),
          completionTokens: assistant.get(student)?.completion ?? 0,
          chatTokens: assistant.get(student)?.chat ?? 0
        };
      })
    };
  }

  /**
   * The members' course jobs (submitted with the course's job profile `course:NAME`):
   * state, profile, times; nothing of their notebooks, and none of their other jobs.
   */
  async jobs(course: string): Promise<CourseJobList> {
    const members = await this.membersIfKnown(course);
    if (members === null) {
      throw new DomainError(
        'upstream_unavailable',
        "The hub's group list is not available, so the course's members are not known"
      );
    }
    const jobs = this.gate.recentJobs(course, members, JOBS_PER_MEMBER);
    return { jobs };
  }

  datasetList(
    user: IAuthUser,
    course: string,
    path: string
  ): Promise<CourseDatasetList> {
    return this.dataset.list(user, course, path);
  }

  /** A file of the dataset; the caller streams `body`. */
  datasetRead(
    user: IAuthUser,
    course: string,
    path: string,
    range: Parameters<StorageService['files']['read']>[3]
  ): Promise<IContent> {
    return this.dataset.read(user, course, path, range);
  }

  private keysOrFail(): { keys: EndpointKeys; usage: EndpointUsage } {
    return this.keys.keysOrFail();
  }

  /** A job profile based on one of the admin's profiles (never on another course's). */
  private checkJobProfile(
    share: NonNullable<CourseUpdate['jobProfile']>
  ): IJobProfileShare {
    const profiles = this.deps.profiles ?? [];
    if (!profiles.some(p => p.name === share.baseProfile)) {
      throw new DomainError(
        'bad_request',
        `No profile named "${share.baseProfile}": base the course's job profile on one of ${profiles.map(p => p.name).join(', ') || 'the admin profiles (none configured)'}`,
        { profiles: profiles.map(p => p.name) }
      );
    }
    return {
      baseProfile: share.baseProfile,
      reservation: share.reservation ?? null,
      maxActiveJobs: share.maxActiveJobs ?? null,
      gpuHoursBudget: share.gpuHoursBudget ?? null,
      kernel: share.kernel ?? false
    };
  }

  private checkOwnEndpoint(user: IAuthUser, endpointId: string): Endpoint {
    this.keysOrFail();
    const ep = this.deps.endpoints?.shared(endpointId);
    if (ep === undefined || ep.owner !== user.name) {
      throw new DomainError(
        'not_found',
        `You own no endpoint ${endpointId}: a course shares one of its instructor's endpoints`
      );
    }
    return ep;
  }

  /**
   * A new endpoint revokes the keys of the old one; a new budget or rate applies to the
   * keys students hold now (what they used before counts against it).
   */
  private applyEndpointChange(
    course: string,
    before: IEndpointShare | null,
    after: IEndpointShare | null
  ): void {
    if (before === null || this.deps.keys === undefined) {
      return;
    }
    const { keys } = this.deps.keys;
    const held = this.studentKeys(course, before.endpointId);
    for (const k of held.values()) {
      if (k.active === null) {
        continue;
      }
      if (after === null || after.endpointId !== before.endpointId) {
        keys.revoke(before.endpointId, k.active.id);
      } else {
        keys.setLimits(k.active.id, {
          requestsPerMinute: after.requestsPerMinute,
          tokenBudget: Math.max(0, after.tokenBudget - k.usedBefore)
        });
      }
    }
  }

  private studentKeys(
    course: string,
    endpointId: string
  ): Map<string, IStudentKeys> {
    return this.keys.studentKeys(course, endpointId);
  }

  /** The members of the course's group; null when the hub's group list is not at hand. */
  private async membersIfKnown(course: string): Promise<string[] | null> {
    if (this.deps.groups === undefined) {
      return null;
    }
    try {
      const groups = await this.deps.groups();
      return [...(groups.get(course) ?? [])];
    } catch {
      return null;
    }
  }
}
