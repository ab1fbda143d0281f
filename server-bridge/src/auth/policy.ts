/**
 * Who may call a route, declared next to its definition as `config: policy.…()`. The app's
 * onRoute hook (`accessHooks`) installs the auth hooks from the declaration and refuses to
 * start when a route has none. Ownership of a resource is still checked by its service
 * (404 to others, so ids do not leak); the declared resource kind says what "owner" means.
 */
import type {
  onRequestAsyncHookHandler,
  onRequestHookHandler,
  RouteOptions
} from 'fastify';
import { DomainError } from '../domain-error';
import { userOf } from './plugin';

/** The kinds of owned resources routes act on. */
export const RESOURCE_KINDS = [
  'job',
  'endpoint',
  'endpoint-key',
  'model',
  'tier',
  'transfer',
  'upload',
  'link',
  'trigger',
  'kernel',
  'conversation'
] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/**
 * What admins may do with someone else's resource: `none` (as any other user), `read`
 * (GET it), `act` (everything the route does).
 */
export type AdminReach = 'none' | 'read' | 'act';

export type RouteAccess =
  /** No hub login; `why` says what protects it instead (if anything). */
  | { who: 'public'; why: string }
  /** Any logged-in hub user, on their own data (lists, creating, their own settings). */
  | { who: 'user' }
  /** Any logged-in hub user; the service answers 404/403 unless they own the resource. */
  | { who: 'owner'; resource: ResourceKind; admins: AdminReach }
  /** Hub admins (and members of `roles.adminGroup`) only. */
  | { who: 'admin' }
  /**
   * The course of the route's `:course` (a hub group): its instructors, its students
   * (group members), or both (`member`). Others get 404; admins as `admins` says.
   */
  | { who: 'course'; role: CourseAccessRole; admins: AdminReach };

/** Who of a course a route serves. */
export type CourseAccessRole = 'instructor' | 'student' | 'member';

/** A route as registered, with its declared access (for tests and docs). */
export interface IDeclaredRoute {
  method: string;
  url: string;
  access: RouteAccess;
}

declare module 'fastify' {
  // eslint-disable-next-line @typescript-eslint/naming-convention -- augments Fastify's own interface
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  // eslint-disable-next-line @typescript-eslint/naming-convention -- augments Fastify's own interface
  interface FastifyInstance {
    /** Every route registered so far with its declared access (filled by `accessHooks`). */
    declaredRoutes: readonly IDeclaredRoute[];
  }
}

/** Route `config` values: `{ config: policy.owned('job', 'read'), … }`. */
export const policy = {
  public: (why: string): { access: RouteAccess } => ({
    access: { who: 'public', why }
  }),
  user: (): { access: RouteAccess } => ({ access: { who: 'user' } }),
  owned: (
    resource: ResourceKind,
    admins: AdminReach = 'none'
  ): { access: RouteAccess } => ({
    access: { who: 'owner', resource, admins }
  }),
  admin: (): { access: RouteAccess } => ({ access: { who: 'admin' } }),
  course: (
    role: CourseAccessRole,
    admins: AdminReach = 'none'
  ): { access: RouteAccess } => ({
    access: { who: 'course', role, admins }
  })
};

/** The hook of a course route: the caller's place in `:course` must fit `role`. */
export function requireCourseRole(
  role: CourseAccessRole,
  admins: AdminReach
): onRequestAsyncHookHandler {
  return async request => {
    const user = userOf(request);
    const course = (request.params as { course?: unknown }).course;
    if (typeof course !== 'string') {
      throw new DomainError('bad_request', 'No course named in the path');
    }
    const teaches = user.instructorOf.includes(course);
    const takes = user.groups.includes(course);
    const fits =
      role === 'member'
        ? teaches || takes
        : role === 'instructor'
          ? teaches
          : takes && !teaches;
    const adminMay =
      user.admin &&
      (admins === 'act' || (admins === 'read' && request.method === 'GET'));
    if (fits || adminMay) {
      return;
    }
    if (!teaches && !takes) {
      throw new DomainError('not_found', `No course ${course}`);
    }
    throw new DomainError(
      'forbidden',
      role === 'instructor'
        ? `Only instructors of ${course} may do this`
        : `Only students of ${course} may do this`
    );
  };
}

export const requireAdmin: onRequestAsyncHookHandler = async request => {
  if (!userOf(request).roles.includes('admin')) {
    throw new DomainError('forbidden', 'Only hub admins may do this');
  }
};

function asList<T>(hooks: T | T[] | undefined): T[] {
  if (hooks === undefined) {
    return [];
  }
  return Array.isArray(hooks) ? hooks : [hooks];
}

const courseHooks = new Map<string, onRequestAsyncHookHandler>();

/** One hook per role and reach, so that a HEAD twin recognises its GET's hooks. */
function courseHook(
  role: CourseAccessRole,
  admins: AdminReach
): onRequestAsyncHookHandler {
  const key = `${role}/${admins}`;
  let hook = courseHooks.get(key);
  if (hook === undefined) {
    hook = requireCourseRole(role, admins);
    courseHooks.set(key, hook);
  }
  return hook;
}

/**
 * An onRoute hook: every route must declare `config.access`; non-public routes get
 * `requireUser` (and admin routes `requireAdmin`) ahead of their own onRequest hooks.
 * Throws for a route without a declaration, so the app does not start. Each route is
 * added to `declared`.
 */
export function accessHooks(
  requireUser: onRequestAsyncHookHandler,
  declared: IDeclaredRoute[]
): (route: RouteOptions) => void {
  return route => {
    const access = route.config?.access;
    const methods = asList(route.method);
    if (access === undefined) {
      throw new Error(
        `Route ${methods.join(',')} ${route.url} declares no access policy: add config: policy.public|user|owned|admin|course(…)`
      );
    }
    for (const method of methods) {
      declared.push({ method, url: route.url, access });
    }
    if (access.who === 'public') {
      return;
    }
    const own = asList<onRequestHookHandler>(
      route.onRequest as onRequestHookHandler | onRequestHookHandler[]
    );
    const auth: onRequestHookHandler[] =
      access.who === 'admin'
        ? [requireUser, requireAdmin]
        : access.who === 'course'
          ? [requireUser, courseHook(access.role, access.admins)]
          : [requireUser];
    // A GET's HEAD twin arrives here again with the hooks already in place.
    route.onRequest = [...auth, ...own.filter(h => !auth.includes(h))];
  };
}
