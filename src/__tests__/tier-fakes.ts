/** Tiers as `GET /tiers` lists them, for the tier pickers' tests. */
import type { TierChoice } from '../storage/TierChoice';

export function tier(
  overrides: Partial<TierChoice.Tier> & Pick<TierChoice.Tier, 'name'>
): TierChoice.Tier {
  return {
    title: overrides.name,
    class: 'scratch',
    adapter: 'sftp',
    access: 'write',
    groups: null,
    usage: {},
    links: false,
    audited: false,
    directUpload: false,
    codeAccess: true,
    ...overrides
  };
}

export const TIERS: TierChoice.Tier[] = [
  tier({ name: 'scratch', title: 'Scratch' }),
  tier({
    name: 'project',
    title: 'Project',
    class: 'project',
    groups: ['ml101', 'climate']
  }),
  tier({ name: 'archive', title: 'Archive', class: 'archive', access: 'read' }),
  tier({
    name: 'sensitive',
    title: 'Sensitive',
    class: 'sensitive',
    adapter: 's3',
    groups: ['medical'],
    audited: true,
    codeAccess: false
  }),
  tier({ name: 'empty', class: 'project', groups: [] })
];
