/**
 * Students' keys of the course endpoint: made (or rotated) when a student asks, or made
 * implicitly, once, for the editor's assistant. A student's budget is per course, not
 * per key: a new key gets what their earlier keys left of it.
 */
import type { IAuthUser } from '../auth/decide';
import type { CourseAssistant, Endpoint } from '../contract';
import { DomainError } from '../domain-error';
import type { EndpointKeys } from '../endpoints/keys';
import type { IKeyRecord } from '../endpoints/repository/keys';
import type { EndpointService } from '../endpoints/service';
import type { EndpointUsage } from '../endpoints/usage';
import type { Store } from '../store';
import type { CourseTable, IEndpointShare } from './repository/courses';
import { studentKeys, type IStudentKeys } from './student-keys';

export interface ICourseKeysDeps {
  table: CourseTable;
  store: Store;
  endpoints?: EndpointService;
  keys?: { keys: EndpointKeys; usage: EndpointUsage };
}

/** A key just made: the secret (shown once, or dropped) and what it may use. */
export interface IIssuedKey {
  key: string;
  record: IKeyRecord;
  share: IEndpointShare;
  endpoint: Endpoint;
  tokensLeft: number;
}

/** A course the user takes that shares an endpoint, as the assistant sees it. */
export interface IAssistantCourse {
  course: string;
  endpointId: string;
  assistant: CourseAssistant;
  tokenBudget: number;
  /** What the student's budget has left (their key's in-flight requests held). */
  tokensLeft: number;
  /** `revoked`: their last key was revoked (the assistant does not make another). */
  key: 'none' | 'active' | 'revoked';
}

export class CourseKeys {
  constructor(private readonly deps: ICourseKeysDeps) {}

  keysOrFail(): { keys: EndpointKeys; usage: EndpointUsage } {
    if (this.deps.keys === undefined) {
      throw new DomainError(
        'upstream_unavailable',
        'Endpoint keys are not available on this bridge'
      );
    }
    return this.deps.keys;
  }

  studentKeys(course: string, endpointId: string): Map<string, IStudentKeys> {
    return studentKeys(this.deps.table, this.deps.keys, course, endpointId);
  }

  /**
   * A new key for the student (an older one is revoked), audited `course.key.create`;
   * `implicit`: made for the editor's assistant, not asked for.
   */
  issue(user: IAuthUser, course: string, implicit = false): IIssuedKey {
    const { keys } = this.keysOrFail();
    const share = this.deps.table.get(course)?.endpoint ?? null;
    if (share === null) {
      throw new DomainError(
        'conflict',
        `Course ${course} shares no endpoint yet: ask its instructor`
      );
    }
    const endpoint = this.deps.endpoints?.shared(share.endpointId);
    if (endpoint === undefined) {
      throw new DomainError(
        'conflict',
        `The endpoint of course ${course} no longer exists: ask its instructor`
      );
    }
    const mine = this.studentKeys(course, share.endpointId).get(user.name);
    if (mine?.active) {
      keys.revoke(share.endpointId, mine.active.id);
    }
    const tokensLeft = Math.max(0, share.tokenBudget - (mine?.tokensUsed ?? 0));
    const { key, record } = keys.create(share.endpointId, user.name, {
      name: `course ${course}`,
      tokenBudget: tokensLeft,
      requestsPerMinute: share.requestsPerMinute
    });
    this.deps.table.addKey({
      keyId: record.id,
      course,
      student: user.name,
      endpointId: share.endpointId,
      createdAt: record.createdAt
    });
    this.deps.store.audit({
      user: user.name,
      action: 'course.key.create',
      target: course,
      details: {
        endpoint: share.endpointId,
        keyId: record.id,
        ...(implicit ? { implicit: true } : {})
      }
    });
    return { key, record, share, endpoint, tokensLeft };
  }

  /**
   * The student's active key for the assistant, made (implicitly) when they never had
   * one; null when their last key was revoked. From the check to the insert under the
   * store's write lock, so concurrent first requests make one key, on any replica.
   */
  forAssistant(user: IAuthUser, course: string): IKeyRecord | null {
    return this.deps.store.exclusive(() => this.activeOrIssued(user, course));
  }

  private activeOrIssued(user: IAuthUser, course: string): IKeyRecord | null {
    const share = this.deps.table.get(course)?.endpoint ?? null;
    const mine =
      share === null
        ? undefined
        : this.studentKeys(course, share.endpointId).get(user.name);
    if (mine?.active) {
      return mine.active;
    }
    if (mine !== undefined) {
      return null;
    }
    return this.issue(user, course, true).record;
  }

  /** The courses `user` takes (not teaches) that share an endpoint, with their key's standing. */
  assistantCourses(user: IAuthUser): IAssistantCourse[] {
    return user.groups
      .filter(g => !user.instructorOf.includes(g))
      .flatMap(course => {
        const rec = this.deps.table.get(course);
        const share = rec?.endpoint ?? null;
        if (rec === undefined || share === null) {
          return [];
        }
        const mine = this.studentKeys(course, share.endpointId).get(user.name);
        return [
          {
            course,
            endpointId: share.endpointId,
            assistant: rec.assistant,
            tokenBudget: share.tokenBudget,
            tokensLeft: Math.max(
              0,
              share.tokenBudget - (mine?.tokensUsed ?? 0)
            ),
            key:
              mine === undefined ? 'none' : mine.active ? 'active' : 'revoked'
          }
        ];
      });
  }
}
