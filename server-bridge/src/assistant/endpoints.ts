/**
 * Which endpoints a user's assistant may use, and the key it uses on each: the user's own
 * endpoints and those shared with them (as `EndpointService.list` decides), and the
 * endpoint of each course they take whose instructor turned the assistant on. A course
 * endpoint is only ever used with the student's course key (its budget is the course's),
 * never as a shared endpoint. The keys are the bridge's: a course key made implicitly
 * once, or for other endpoints one key per user and endpoint named `assistant`; their
 * secrets are never kept, the gateway is called in process with the key's record.
 */
import type { IAuthUser } from '../auth/decide';
import type {
  AssistantEndpoint,
  AssistantPurpose,
  Endpoint
} from '../contract';
import type { CourseKeys, IAssistantCourse } from '../courses/course-keys';
import { DomainError } from '../domain-error';
import { OpenAIError } from '../endpoints/gateway-errors';
import type { EndpointKeys, IResolvedKey } from '../endpoints/keys';
import type { IKeyRecord } from '../endpoints/repository/keys';
import type { EndpointService } from '../endpoints/service';
import type { Store } from '../store';
import { AssistantKeyTable } from './repository/keys';

export const ASSISTANT_KEY_NAME = 'assistant';

export const REVOKED_COURSE_KEY =
  'Your course key was revoked by the instructor';

export interface IAssistantEndpointsDeps {
  store: Store;
  endpoints: EndpointService;
  keys: EndpointKeys;
  courses: CourseKeys;
}

/** An endpoint the user's assistant may use, and why. */
export interface IAssistantTarget {
  endpoint: Endpoint;
  source: 'own' | 'shared' | 'course';
  /** For `source: course`. */
  course: IAssistantCourse | null;
}

const spent = (c: IAssistantCourse): string =>
  `You have used your ${c.tokenBudget} tokens of course ${c.course}`;

function keyError(status: 401 | 429, message: string): OpenAIError {
  return status === 401
    ? new OpenAIError(401, message, 'invalid_request_error', 'invalid_api_key')
    : new OpenAIError(429, message, 'insufficient_quota', 'insufficient_quota');
}

export class AssistantEndpoints {
  private readonly table: AssistantKeyTable;

  constructor(private readonly deps: IAssistantEndpointsDeps) {
    this.table = new AssistantKeyTable(deps.store);
  }

  /** Every endpoint the user's assistant may use: own, shared, then course endpoints. */
  targets(user: IAuthUser): IAssistantTarget[] {
    const courses = this.deps.courses.assistantCourses(user);
    const ofCourses = new Set(courses.map(c => c.endpointId));
    const out: IAssistantTarget[] = this.deps.endpoints
      .list(user)
      .filter(ep => ep.owner === user.name || !ofCourses.has(ep.id))
      .map(endpoint => ({
        endpoint,
        source: endpoint.owner === user.name ? 'own' : 'shared',
        course: null
      }));
    const seen = new Set(out.map(t => t.endpoint.id));
    for (const course of courses) {
      const on = course.assistant.completion || course.assistant.chat;
      const endpoint = on
        ? this.deps.endpoints.shared(course.endpointId)
        : undefined;
      if (endpoint !== undefined && !seen.has(endpoint.id)) {
        seen.add(endpoint.id);
        out.push({ endpoint, source: 'course', course });
      }
    }
    return out;
  }

  list(user: IAuthUser): AssistantEndpoint[] {
    return this.targets(user).map(t => this.view(user, t));
  }

  /** The endpoint for `purpose`; 404 when the assistant may not use it, 403 when the course has `purpose` off. */
  target(
    user: IAuthUser,
    endpointId: string,
    purpose: AssistantPurpose
  ): IAssistantTarget {
    const t = this.targets(user).find(x => x.endpoint.id === endpointId);
    if (t === undefined) {
      throw new DomainError(
        'not_found',
        `No endpoint ${endpointId} for your assistant`
      );
    }
    if (t.course !== null && !t.course.assistant[purpose]) {
      throw new DomainError(
        'forbidden',
        `The instructor of course ${t.course.course} has not turned ${purpose === 'chat' ? 'chat' : 'inline completion'} on`
      );
    }
    return t;
  }

  /**
   * The key the assistant uses on the target, made when there is none yet; 401 when it
   * was revoked (a course key by the instructor, a shared endpoint's by its owner), 429
   * when a course budget is spent.
   */
  key(user: IAuthUser, target: IAssistantTarget): IResolvedKey {
    const record =
      target.course === null
        ? this.endpointKey(user, target)
        : this.courseKey(user, target.course);
    return {
      keyId: record.id,
      endpointId: record.endpointId,
      owner: record.owner,
      limits: {
        requestsPerMinute: record.requestsPerMinute,
        tokenBudget: record.tokenBudget
      }
    };
  }

  private courseKey(user: IAuthUser, course: IAssistantCourse): IKeyRecord {
    if (course.key === 'active' && course.tokensLeft <= 0) {
      throw keyError(429, spent(course));
    }
    const record = this.deps.courses.forAssistant(user, course.course);
    if (record === null) {
      throw keyError(401, REVOKED_COURSE_KEY);
    }
    return record;
  }

  /** The user's `assistant` key of an own or shared endpoint; an own one revoked is made anew. */
  private endpointKey(user: IAuthUser, target: IAssistantTarget): IKeyRecord {
    const { endpoint } = target;
    const keyId = this.table.get(user.name, endpoint.id);
    const held = keyId === undefined ? undefined : this.deps.keys.get(keyId);
    if (held !== undefined && held.revokedAt === null) {
      return held;
    }
    if (held !== undefined && target.source === 'shared') {
      throw keyError(401, this.revokedByOwner(endpoint));
    }
    const { record } = this.deps.keys.create(endpoint.id, user.name, {
      name: ASSISTANT_KEY_NAME
    });
    this.table.put(user.name, endpoint.id, record.id, record.createdAt);
    this.deps.store.audit({
      user: user.name,
      action: 'endpoint.key.create',
      target: endpoint.id,
      details: { keyId: record.id, name: record.name, implicit: true }
    });
    return record;
  }

  private revokedByOwner(endpoint: Endpoint): string {
    return `${endpoint.owner}, the owner of ${endpoint.name}, revoked your assistant's key`;
  }

  private view(user: IAuthUser, t: IAssistantTarget): AssistantEndpoint {
    const { endpoint, course } = t;
    return {
      endpointId: endpoint.id,
      name: endpoint.name,
      model: endpoint.model,
      state: endpoint.state,
      source: t.source,
      course: course?.course ?? null,
      completion: course?.assistant.completion ?? true,
      chat: course?.assistant.chat ?? true,
      tokensLeft: course?.tokensLeft ?? null,
      unavailable: this.unavailable(user, t)
    };
  }

  private unavailable(user: IAuthUser, t: IAssistantTarget): string | null {
    const { endpoint, course } = t;
    if (course?.key === 'revoked') {
      return REVOKED_COURSE_KEY;
    }
    if (course !== null && course.tokensLeft <= 0) {
      return spent(course);
    }
    if (t.source === 'shared') {
      const keyId = this.table.get(user.name, endpoint.id);
      const held = keyId === undefined ? undefined : this.deps.keys.get(keyId);
      if (held !== undefined && held.revokedAt !== null) {
        return this.revokedByOwner(endpoint);
      }
    }
    if (endpoint.state === 'failed') {
      return `${endpoint.name} failed${endpoint.reason === null ? '' : `: ${endpoint.reason}`}`;
    }
    if (endpoint.state === 'stopped' || endpoint.state === 'stopping') {
      return `${endpoint.name} is stopped: its owner must start it`;
    }
    return null;
  }
}
