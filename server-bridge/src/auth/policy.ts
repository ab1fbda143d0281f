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
import { HttpError } from '../errors';
import { userOf } from './plugin';

/** The kinds of owned resources routes act on. */
export const RESOURCE_KINDS = [
  'job',
  'endpoint',
  'endpoint-key',
  'tier',
  'transfer',
  'upload',
  'link'
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
  | { who: 'admin' };

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
  admin: (): { access: RouteAccess } => ({ access: { who: 'admin' } })
};

export const requireAdmin: onRequestAsyncHookHandler = async request => {
  if (!userOf(request).roles.includes('admin')) {
    throw new HttpError('forbidden', 'Only hub admins may do this');
  }
};

function asList<T>(hooks: T | T[] | undefined): T[] {
  if (hooks === undefined) {
    return [];
  }
  return Array.isArray(hooks) ? hooks : [hooks];
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
        `Route ${methods.join(',')} ${route.url} declares no access policy: add config: policy.public|user|owned|admin(…)`
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
      access.who === 'admin' ? [requireUser, requireAdmin] : [requireUser];
    // A GET's HEAD twin arrives here again with the hooks already in place.
    route.onRequest = [...auth, ...own.filter(h => !auth.includes(h))];
  };
}
