/**
 * The auth decision as a pure function: the hub's `GET /hub/api/user` answer for a
 * token, and the bridge's settings → accept (with the user's roles) or reject (with
 * a reason). See RECIPES.md, "Panels → bridge auth".
 */
import { z } from 'zod';
import type { Role } from '../contract';

/** The fields of JupyterHub's user model we rely on; anything else is ignored. */
export const HubUserSchema = z.looseObject({
  kind: z.string(),
  name: z.string().min(1),
  admin: z.boolean().optional(),
  groups: z.array(z.string()).optional(),
  scopes: z.array(z.string()).optional()
});
export type HubUser = z.infer<typeof HubUserSchema>;

export interface IAuthUser {
  name: string;
  groups: string[];
  roles: Role[];
  /** Courses (group names without the instructor suffix) this user teaches. */
  instructorOf: string[];
  /** A hub admin or a member of `roles.adminGroup` (the same as `roles` holding admin). */
  admin: boolean;
}

export interface IAuthPolicy {
  serviceName: string;
  adminGroup: string | null;
  instructorGroupSuffix: string;
}

export type AuthDecision =
  { ok: true; user: IAuthUser } | { ok: false; reason: string };

/** True when `scopes` allow access to the bridge service itself. */
export function hasServiceScope(
  scopes: readonly string[],
  serviceName: string
): boolean {
  return scopes.some(
    s =>
      s === 'access:services' || s === `access:services!service=${serviceName}`
  );
}

/**
 * True when `scopes` allow access to a server of `userName` itself. A token that only
 * reaches another user's server (one harvested by that server) fails here.
 */
export function hasOwnServerScope(
  scopes: readonly string[],
  userName: string
): boolean {
  return scopes.some(
    s =>
      s === 'access:servers' ||
      s === `access:servers!user=${userName}` ||
      s.startsWith(`access:servers!server=${userName}/`)
  );
}

export function rolesOf(
  user: { admin: boolean; groups: readonly string[] },
  policy: Pick<IAuthPolicy, 'adminGroup' | 'instructorGroupSuffix'>
): { roles: Role[]; instructorOf: string[] } {
  const suffix = policy.instructorGroupSuffix;
  const instructorOf = user.groups
    .filter(g => g.length > suffix.length && g.endsWith(suffix))
    .map(g => g.slice(0, -suffix.length));
  const roles: Role[] = ['researcher'];
  if (instructorOf.length > 0) {
    roles.push('instructor');
  }
  if (
    user.admin ||
    (policy.adminGroup !== null && user.groups.includes(policy.adminGroup))
  ) {
    roles.push('admin');
  }
  return { roles, instructorOf };
}

/** Decides on the hub's answer for a token (the JSON body of a 200 from `/hub/api/user`). */
export function decide(hubAnswer: unknown, policy: IAuthPolicy): AuthDecision {
  const parsed = HubUserSchema.safeParse(hubAnswer);
  if (!parsed.success) {
    return { ok: false, reason: 'unexpected answer from the hub' };
  }
  const model = parsed.data;
  if (model.kind !== 'user') {
    return {
      ok: false,
      reason: `token belongs to a ${model.kind}, not a user`
    };
  }
  const scopes = model.scopes ?? [];
  if (!hasServiceScope(scopes, policy.serviceName)) {
    return {
      ok: false,
      reason: `token lacks the scope access:services!service=${policy.serviceName}`
    };
  }
  if (!hasOwnServerScope(scopes, model.name)) {
    return { ok: false, reason: "token lacks access to the user's own server" };
  }
  const groups = [...(model.groups ?? [])].sort();
  const { roles, instructorOf } = rolesOf(
    { admin: model.admin === true, groups },
    policy
  );
  // Members of the admin group are admins everywhere the services check `admin`.
  return {
    ok: true,
    user: {
      name: model.name,
      groups,
      admin: roles.includes('admin'),
      roles,
      instructorOf
    }
  };
}
