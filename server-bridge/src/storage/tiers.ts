/**
 * Which tiers a hub user sees, what they may do there, and where a path inside a tier
 * lives: the scope (the user's own root, or one group's root) and the path below it.
 */
import type { TierConfig } from '../config';
import { DomainError } from '../domain-error';
import { checkTierPath, joinPath } from './paths';

export type TierAccess = 'read' | 'write';

export interface IStorageUser {
  name: string;
  groups: readonly string[];
}

/** A place with its own root and quota: `''` for per-user tiers, else a group. */
export interface IScope {
  /** `''` for a per-user tier, else the group name. */
  key: string;
  access: TierAccess;
}

/** A path inside a tier, resolved for one user. */
export interface IResolvedPath {
  tier: TierConfig;
  /** Null at the root of a `{group}` tier (the virtual folder of the user's groups). */
  scope: IScope | null;
  /** The path below the scope's root (`''` = the root). */
  rest: string;
  /** The path as the user wrote it (relative to the tier). */
  path: string;
}

/** Names that may stand in for `{user}`/`{group}` in a prefix or a path. */
const SAFE_NAME = /^[A-Za-z0-9_@+-][A-Za-z0-9._@+-]{0,63}$/;

export function templateOf(tier: TierConfig): string {
  return 's3' in tier.location
    ? tier.location.s3.prefix
    : tier.location.sftp.path;
}

export function isGroupTier(tier: TierConfig): boolean {
  return templateOf(tier).includes('{group}');
}

function listed(list: readonly string[], user: IStorageUser): boolean {
  return list.includes('*') || user.groups.some(g => list.includes(g));
}

/** The access of a user on a per-user tier, or on one group of a `{group}` tier. */
function accessFor(
  tier: TierConfig,
  user: IStorageUser,
  group?: string
): TierAccess | null {
  if (group !== undefined) {
    if (!user.groups.includes(group)) {
      return null;
    }
    if (tier.write.includes(group)) {
      return 'write';
    }
    return tier.read.includes(group) ? 'read' : null;
  }
  if (listed(tier.write, user)) {
    return 'write';
  }
  return listed(tier.read, user) ? 'read' : null;
}

/** The groups whose folders a user sees at the root of a `{group}` tier, sorted. */
export function groupsOf(tier: TierConfig, user: IStorageUser): string[] {
  const named = new Set([...tier.read, ...tier.write]);
  return user.groups
    .filter(g => named.has(g) && SAFE_NAME.test(g) && g !== '.' && g !== '..')
    .sort();
}

/** The scopes of a tier this user can open (one per group for `{group}` tiers). */
export function scopesOf(tier: TierConfig, user: IStorageUser): IScope[] {
  if (isGroupTier(tier)) {
    return groupsOf(tier, user).flatMap(g => {
      const access = accessFor(tier, user, g);
      return access === null ? [] : [{ key: g, access }];
    });
  }
  const access = accessFor(tier, user);
  return access === null ? [] : [{ key: '', access }];
}

/** The best access a user has anywhere in the tier, or null when it is not visible. */
export function tierAccess(
  tier: TierConfig,
  user: IStorageUser
): TierAccess | null {
  const scopes = scopesOf(tier, user);
  if (scopes.length === 0) {
    return null;
  }
  return scopes.some(s => s.access === 'write') ? 'write' : 'read';
}

export class TierDirectory {
  constructor(private readonly tiers: readonly TierConfig[]) {}

  /** The tiers this user may see, in config order. */
  visible(user: IStorageUser): TierConfig[] {
    return this.tiers.filter(t => tierAccess(t, user) !== null);
  }

  /** The tier, or 404 when it does not exist or the user may not see it (same answer). */
  tier(name: string, user: IStorageUser): TierConfig {
    const tier = this.tiers.find(t => t.name === name);
    if (tier === undefined || tierAccess(tier, user) === null) {
      throw new DomainError('not_found', `No storage tier named "${name}"`);
    }
    return tier;
  }

  byName(name: string): TierConfig | undefined {
    return this.tiers.find(t => t.name === name);
  }

  /** Splits a tier path into scope and rest; refuses groups the user is not in. */
  resolve(tier: TierConfig, user: IStorageUser, path: string): IResolvedPath {
    checkTierPath(path);
    if (!isGroupTier(tier)) {
      const access = accessFor(tier, user);
      if (access === null) {
        throw new DomainError(
          'not_found',
          `No storage tier named "${tier.name}"`
        );
      }
      return { tier, scope: { key: '', access }, rest: path, path };
    }
    if (path === '') {
      return { tier, scope: null, rest: '', path };
    }
    const slash = path.indexOf('/');
    const group = slash === -1 ? path : path.slice(0, slash);
    const rest = slash === -1 ? '' : path.slice(slash + 1);
    const scope = scopesOf(tier, user).find(s => s.key === group);
    if (scope === undefined) {
      throw new DomainError(
        'forbidden',
        `${tier.name}: "${group}" is not one of your groups on this tier`
      );
    }
    return { tier, scope, rest, path };
  }
}

/** The tier path of `rest` in `scope` (adds the group folder back). */
export function tierPathOf(scope: IScope, rest: string): string {
  return scope.key === '' ? rest : joinPath(scope.key, rest);
}

/**
 * The root of a scope: `{user}` → `userName` (the cluster account for sftp tiers),
 * `{group}` → the scope's group.
 */
export function rootOf(
  template: string,
  userName: string,
  scope: IScope
): string {
  for (const name of [userName, scope.key]) {
    if (name !== '' && (!SAFE_NAME.test(name) || name === '..')) {
      throw new DomainError(
        'forbidden',
        `"${name}" cannot be used in a storage location`
      );
    }
  }
  if (template.includes('{group}') && scope.key === '') {
    throw new DomainError('bad_request', 'A group folder is required here');
  }
  return template
    .replaceAll('{user}', userName)
    .replaceAll('{group}', scope.key);
}
