/**
 * Tier usage per scope for admins, from the figures the storage service already keeps
 * (measured when the scope's users list or write their tiers). Nothing is walked here: a
 * scope nobody has opened since the bridge started shows `bytes: null`.
 */
import type { TierConfig } from '../config';
import type { AdminTierScope } from '../contract';
import type { StorageService } from '../storage/service';
import { isGroupTier } from '../storage/tiers';

function groupsNamed(tier: TierConfig): string[] {
  return [...new Set([...tier.read, ...tier.write])]
    .filter(g => g !== '*')
    .sort();
}

/** Every scope of every tier for the known users and the tiers' groups. */
export function tierScopes(
  tiers: readonly TierConfig[],
  storage: StorageService,
  users: readonly string[]
): AdminTierScope[] {
  const out: AdminTierScope[] = [];
  for (const tier of tiers) {
    const group = isGroupTier(tier);
    const names = group ? groupsNamed(tier) : [...users].sort();
    for (const name of names) {
      let key: string;
      try {
        key = group
          ? storage.core.ports.usageKeyOf(tier, '', {
              key: name,
              access: 'read'
            })
          : storage.core.ports.usageKeyOf(tier, name, {
              key: '',
              access: 'read'
            });
      } catch {
        // A name that cannot be a storage location has no scope.
        continue;
      }
      const usage = storage.core.usage.peek(key);
      out.push({
        tier: tier.name,
        class: tier.class,
        scope: group ? 'group' : 'user',
        name,
        bytes: usage?.bytes ?? null,
        quotaBytes: tier.quota ?? null,
        measuredAt: usage?.measuredAt.toISOString() ?? null
      });
    }
  }
  return out;
}
