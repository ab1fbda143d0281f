/**
 * What every storage operation does first: find the tier, resolve the path for the user,
 * check the access it needs, open the scope's port; and what it does around the work:
 * the audit record on sensitive tiers and the mapping of adapter errors to HTTP errors.
 */
import type { TierConfig } from '../config';
import { HttpError } from '../errors';
import { StorageError, type IStoragePort } from '../ports/storage';
import type { StorageAction, StorageAudit } from './audit';
import type { IOpenedScope, TierPorts } from './ports';
import { checkQuota, type Clock, type IUsage, UsageCache } from './quota';
import {
  type IResolvedPath,
  type IScope,
  type IStorageUser,
  TierDirectory,
  tierPathOf
} from './tiers';

/** A path resolved to an open scope. */
export interface ILocated extends IResolvedPath {
  scope: IScope;
  opened: IOpenedScope;
  port: IStoragePort;
}

export type Need = 'read' | 'write';

const KIND_TO_CODE = {
  not_found: 'not_found',
  exists: 'conflict',
  not_empty: 'conflict',
  denied: 'forbidden',
  invalid: 'bad_request',
  unavailable: 'upstream_unavailable'
} as const;

/** StorageError → HttpError with the same sentence; anything else passes through. */
export function toHttpError(e: unknown): unknown {
  if (e instanceof StorageError) {
    return new HttpError(KIND_TO_CODE[e.kind], e.message);
  }
  return e;
}

export class StorageCore {
  readonly usage: UsageCache;

  constructor(
    readonly directory: TierDirectory,
    readonly ports: TierPorts,
    readonly audit: StorageAudit,
    readonly now: Clock = Date.now,
    usageTtlMs = 30_000
  ) {
    this.usage = new UsageCache(usageTtlMs, now);
  }

  tier(user: IStorageUser, name: string): TierConfig {
    return this.directory.tier(name, user);
  }

  /**
   * Resolves `path` on `tier` for `user` and opens its scope. Writes need write access
   * and a group folder on `{group}` tiers; `item` refuses the scope's own root.
   */
  locate(
    user: IStorageUser,
    tier: TierConfig,
    path: string,
    need: Need,
    options: { item?: boolean } = {}
  ): ILocated {
    const resolved = this.directory.resolve(tier, user, path);
    const { scope } = resolved;
    if (scope === null) {
      throw new HttpError(
        need === 'write' ? 'forbidden' : 'bad_request',
        need === 'write'
          ? `Writes at the root of ${tier.name} are not possible: choose one of your group folders`
          : `The root of ${tier.name} holds your group folders only`
      );
    }
    if (need === 'write' && scope.access !== 'write') {
      throw new HttpError(
        'forbidden',
        `${tier.name}${scope.key === '' ? '' : `/${scope.key}`} is read-only for you`
      );
    }
    if (options.item === true && resolved.rest === '') {
      throw new HttpError(
        'forbidden',
        `${tier.name}/${scope.key} is a group folder: it cannot be changed itself`
      );
    }
    const opened = this.ports.open(tier, user.name, scope);
    return { ...resolved, scope, opened, port: opened.port };
  }

  /**
   * Runs `fn`, maps adapter errors, and on sensitive tiers records the access with its
   * outcome (refusals and failures too).
   */
  async audited<T>(
    user: IStorageUser,
    tier: TierConfig,
    action: StorageAction,
    path: string,
    fn: () => Promise<T>,
    details?: (result: T) => Record<string, unknown>
  ): Promise<T> {
    const record = (
      outcome: 'ok' | 'refused' | 'failed',
      extra?: Record<string, unknown>
    ): void => {
      if (tier.class === 'sensitive') {
        this.audit.record({
          user: user.name,
          action,
          tier: tier.name,
          path,
          outcome,
          ...(extra === undefined ? {} : { details: extra })
        });
      }
    };
    let result: T;
    try {
      result = await fn();
    } catch (e) {
      const mapped = toHttpError(e);
      const refused =
        mapped instanceof HttpError &&
        mapped.statusCode >= 400 &&
        mapped.statusCode < 500;
      record(refused ? 'refused' : 'failed', {
        error: (mapped as Error).message
      });
      throw mapped;
    }
    record('ok', details?.(result));
    return result;
  }

  /**
   * Looks the tier up and runs `fn` audited. Attempts on a sensitive tier the user may
   * not see are recorded as refusals too (they answer the same 404 as a missing tier).
   */
  async run<T>(
    user: IStorageUser,
    tierName: string,
    action: StorageAction,
    path: string,
    fn: (tier: TierConfig) => Promise<T>,
    details?: (result: T) => Record<string, unknown>
  ): Promise<T> {
    const tier = this.directory.byName(tierName);
    if (tier === undefined) {
      throw new HttpError('not_found', `No storage tier named "${tierName}"`);
    }
    return this.audited(
      user,
      tier,
      action,
      path,
      () => fn(this.directory.tier(tierName, user)),
      details
    );
  }

  /** Usage of an open scope (cached). */
  measure(opened: IOpenedScope): Promise<IUsage> {
    return this.usage.get(opened.usageKey, () => opened.port.usage());
  }

  /**
   * Refuses a write of `size` bytes that would not fit in the scope's quota;
   * `replaced` is the size of the file it overwrites.
   */
  async checkQuota(
    located: ILocated,
    size: number,
    replaced = 0
  ): Promise<void> {
    const quota = located.tier.quota;
    if (quota === undefined) {
      return;
    }
    const used = (await this.measure(located.opened)).bytes;
    checkQuota({
      where: `${located.tier.name}${located.scope.key === '' ? '' : `/${located.scope.key}`}`,
      quota,
      used,
      size,
      replaced
    });
  }

  /** The tier path of a located path's `rest` (adds the group folder back). */
  tierPath(located: ILocated, rest: string): string {
    return tierPathOf(located.scope, rest);
  }
}
