/**
 * The audit records of the sensitive tiers a job or an endpoint uses
 * (`job.uses-tier`, `endpoint.uses-tier`), written by their services around the
 * data-class policy's decisions.
 */
import type { BridgeConfig } from '../config';
import {
  hiddenSensitiveTiers,
  resolveTierUses,
  sensitiveOf,
  type ITierUse
} from '../policy/data-classes';
import type { Store } from '../store';
import type { IStorageUser } from './tiers';

/**
 * Audits, as refused, the attempts to use sensitive tiers the user may not read; then
 * resolves the references (which answers 404 for those).
 */
export function resolveTierUsesAudited(
  config: BridgeConfig,
  store: Pick<Store, 'audit'>,
  user: IStorageUser,
  refs: readonly string[],
  action: 'job.uses-tier' | 'endpoint.uses-tier',
  details: Record<string, unknown>
): ITierUse[] {
  for (const name of hiddenSensitiveTiers(config, user, refs)) {
    store.audit({
      user: user.name,
      action,
      target: name,
      details: {
        ...details,
        outcome: 'refused',
        reason: `No storage tier named "${name}" for ${user.name}`
      }
    });
  }
  return resolveTierUses(config, user, refs);
}

/**
 * One audit record per sensitive tier used (`job.uses-tier`, `endpoint.uses-tier`),
 * target `tier` or `tier:group`, with the outcome.
 */
export function auditSensitiveUses(
  store: Pick<Store, 'audit'>,
  entry: {
    user: string;
    action: 'job.uses-tier' | 'endpoint.uses-tier';
    uses: readonly ITierUse[];
    outcome: 'ok' | 'refused';
    details: Record<string, unknown>;
  }
): void {
  for (const use of sensitiveOf(entry.uses)) {
    store.audit({
      user: entry.user,
      action: entry.action,
      target: use.ref,
      details: { ...entry.details, outcome: entry.outcome }
    });
  }
}

export type TierUseAuditor = (
  user: Pick<IStorageUser, 'name'>,
  uses: readonly ITierUse[],
  outcome: 'ok' | 'refused',
  details: Record<string, unknown>
) => void;

/** `auditSensitiveUses` of one action, for a service's calls. */
export function tierUseAuditor(
  store: Pick<Store, 'audit'>,
  action: 'job.uses-tier' | 'endpoint.uses-tier'
): TierUseAuditor {
  return (user, uses, outcome, details) =>
    auditSensitiveUses(store, {
      user: user.name,
      action,
      uses,
      outcome,
      details
    });
}
