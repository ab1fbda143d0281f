/**
 * What every storage operation does first: find the tier, resolve the path for the user,
 * check the access it needs, open the scope's port; and what it does around the work:
 * the audit record on sensitive tiers and the mapping of adapter errors to domain errors.
 */
import type { TierConfig } from '../config';
import { DomainError, isRefusal } from '../domain-error';
import {
  StorageError,
  type IStorageEntry,
  type IStoragePort
} from '../ports/storage';
import type { StorageAction, StorageAudit } from './audit';
import type { IOpenedScope, TierPorts } from './ports';
import { checkQuota, type Clock, type IUsage, type UsageCache } from './quota';
import { randomId } from './repository/records';
import type { ReservationTable } from './repository/reservations';
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

/** Bytes promised to a write in flight; `release` once it has ended either way. */
export interface IReservation {
  readonly id: string;
  readonly bytes: number;
  release(): void;
}

/** How long a claim or a streamed write's reservation survives a bridge that died. */
const WRITE_HOLD_MS = 24 * 3600 * 1000;

const KIND_TO_CODE = {
  not_found: 'not_found',
  exists: 'conflict',
  not_empty: 'conflict',
  denied: 'forbidden',
  invalid: 'bad_request',
  unavailable: 'upstream_unavailable'
} as const;

/** StorageError → DomainError with the same sentence; anything else passes through. */
export function toDomainError(e: unknown): unknown {
  if (e instanceof StorageError) {
    return new DomainError(KIND_TO_CODE[e.kind], e.message);
  }
  return e;
}

export class StorageCore {
  constructor(
    readonly directory: TierDirectory,
    readonly ports: TierPorts,
    readonly audit: StorageAudit,
    readonly reservations: ReservationTable,
    readonly usage: UsageCache,
    readonly now: Clock = Date.now
  ) {}

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
      throw new DomainError(
        need === 'write' ? 'forbidden' : 'bad_request',
        need === 'write'
          ? `Writes at the root of ${tier.name} are not possible: choose one of your group folders`
          : `The root of ${tier.name} holds your group folders only`
      );
    }
    if (need === 'write' && scope.access !== 'write') {
      throw new DomainError(
        'forbidden',
        `${tier.name}${scope.key === '' ? '' : `/${scope.key}`} is read-only for you`
      );
    }
    if (options.item === true && resolved.rest === '') {
      throw new DomainError(
        'forbidden',
        `${tier.name}/${scope.key} is a group folder: it cannot be changed itself`
      );
    }
    const opened = this.ports.open(tier, user.name, scope);
    return { ...resolved, scope, opened, port: opened.port };
  }

  /** What is at a located path; 404 when nothing is. */
  async existing(located: ILocated): Promise<IStorageEntry> {
    const entry = await located.port.stat(located.rest);
    if (entry === null) {
      throw new DomainError(
        'not_found',
        `${located.tier.name}:${located.path}: no such file or folder`
      );
    }
    return entry;
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
      const mapped = toDomainError(e);
      record(isRefusal(mapped) ? 'refused' : 'failed', {
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
      throw new DomainError('not_found', `No storage tier named "${tierName}"`);
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

  /** `run` on the one file or folder at `path` (never a group folder itself), located for `need`. */
  async runOnItem<T>(
    user: IStorageUser,
    tierName: string,
    action: StorageAction,
    path: string,
    need: Need,
    fn: (located: ILocated, tier: TierConfig) => Promise<T>,
    details?: (result: T) => Record<string, unknown>
  ): Promise<T> {
    return this.run(
      user,
      tierName,
      action,
      path,
      tier => fn(this.locate(user, tier, path, need, { item: true }), tier),
      details
    );
  }

  /** Usage of an open scope (cached). */
  measure(opened: IOpenedScope): Promise<IUsage> {
    return this.usage.get(opened.usageKey, () => opened.port.usage());
  }

  /**
   * The measured usage, measured again when a write settled while the first walk of the
   * scope ran (that walk's figure is then dropped, and may lack the write).
   */
  private async current(opened: IOpenedScope): Promise<IUsage> {
    let usage = await this.measure(opened);
    for (
      let i = 0;
      i < 3 && this.usage.peek(opened.usageKey) === undefined;
      i++
    ) {
      usage = await this.measure(opened);
    }
    return this.usage.peek(opened.usageKey) ?? usage;
  }

  private where(located: ILocated): string {
    return `${located.tier.name}${located.scope.key === '' ? '' : `/${located.scope.key}`}`;
  }

  /** What identifies the file (or folder) a write goes to, across users and groups. */
  targetOf(located: ILocated): string {
    return `${located.opened.usageKey}\0${located.rest}`;
  }

  /**
   * Checks the quota and reserves `size` bytes for a write to `located`, in one
   * transaction: usage = the scope's figure in the store (the measured usage with the
   * writes every replica settled since) + every live reservation of the scope.
   * `replaced` (the size of the file the write overwrites) is credited only when no
   * other write to the same file is in flight. Without a quota nothing is reserved.
   */
  async reserve(
    located: ILocated,
    size: number,
    options: { replaced?: number; id?: string; expiresAt?: number } = {}
  ): Promise<IReservation> {
    const id = options.id ?? randomId();
    const quota = located.tier.quota;
    if (quota === undefined) {
      return { id, bytes: 0, release: () => undefined };
    }
    const scope = located.opened.usageKey;
    for (let attempt = 1; ; attempt++) {
      const usage = await this.freshUsage(located);
      const now = this.now();
      const reserved = this.reservations.reserve(
        {
          id,
          scope,
          target: this.targetOf(located),
          bytes: size,
          createdAt: new Date(now).toISOString(),
          expiresAt: new Date(
            options.expiresAt ?? now + WRITE_HOLD_MS
          ).toISOString()
        },
        new Date(now).toISOString(),
        held => {
          // Another replica made the figure unknown since it was measured: measure
          // again, or after a few tries take the walk just made (it began after that).
          if (held.measured === null && attempt < 3) {
            return false;
          }
          checkQuota({
            where: this.where(located),
            quota,
            used: (held.measured ?? usage.bytes) + held.reserved,
            size,
            replaced: held.targetBusy ? 0 : (options.replaced ?? 0)
          });
          return true;
        }
      );
      if (reserved) {
        return {
          id,
          bytes: size,
          release: () => this.reservations.release(id)
        };
      }
    }
  }

  /** The scope's usage, measured again when a reservation lapsed since it was taken. */
  private async freshUsage(located: ILocated): Promise<IUsage> {
    const scope = located.opened.usageKey;
    const usage = await this.current(located.opened);
    const nowIso = new Date(this.now()).toISOString();
    if (
      !this.reservations.lapsedSince(
        scope,
        usage.measuredAt.toISOString(),
        nowIso
      )
    ) {
      return usage;
    }
    // A reservation ran out unreleased after the figure was taken: measure again.
    this.usage.invalidate(scope);
    return this.current(located.opened);
  }

  /**
   * Makes this call the only writer of `located` until `release`; a second writer gets
   * 409 at once.
   */
  claim(located: ILocated): { release(): void } {
    const target = this.targetOf(located);
    const holder = randomId();
    const now = this.now();
    if (
      !this.reservations.claim(
        target,
        holder,
        new Date(now + WRITE_HOLD_MS).toISOString(),
        new Date(now).toISOString()
      )
    ) {
      throw new DomainError(
        'conflict',
        `${located.tier.name}:${located.path} is being written by another request; try again when it has finished`
      );
    }
    return { release: () => this.reservations.unclaim(target, holder) };
  }

  /**
   * A write of `delta` bytes has become visible: the cached figure follows at once, and
   * a walk that started before it cannot bring the old figure back.
   */
  settle(located: ILocated, delta: number): void {
    this.usage.settle(located.opened.usageKey, delta);
  }

  /** The tier path of a located path's `rest` (adds the group folder back). */
  tierPath(located: ILocated, rest: string): string {
    return tierPathOf(located.scope, rest);
  }
}
