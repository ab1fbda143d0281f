/**
 * Policies from data classes: which storage tiers a job or an endpoint uses, where those
 * tiers are for the job (its environment), and the rules that refuse a use. A refusal
 * names its rule, always in the same sentence form, with the code `policy_refused`.
 */
import type {
  BridgeConfig,
  ClusterConfig,
  ServingConfig,
  TierConfig
} from '../config';
import type { ServingProviderName } from '../contract';
import { clusterUserOf } from '../credentials/access';
import { DomainError } from '../domain-error';
import {
  isGroupTier,
  rootOf,
  scopesOf,
  tierAccess,
  TierDirectory,
  type IStorageUser
} from '../storage/tiers';

/** The rules, by the name every refusal quotes. */
export const DATA_CLASS_RULES = {
  jobPartition: 'sensitive data only on compliant partitions',
  endpointProvider: 'sensitive data only on compliant serving providers',
  publicLinks: 'share links only on public tiers',
  derivedData: 'data derived from sensitive data never on public tiers'
} as const;
export type DataClassRule =
  (typeof DATA_CLASS_RULES)[keyof typeof DATA_CLASS_RULES];

/** `Refused by the data-class rule 'RULE': REASON` (403 `policy_refused`). */
export function policyRefusal(
  rule: DataClassRule,
  reason: string,
  details: Record<string, unknown> = {}
): DomainError {
  return new DomainError(
    'policy_refused',
    `Refused by the data-class rule '${rule}': ${reason}`,
    { rule, ...details }
  );
}

/** One tier a job or an endpoint uses, resolved for its user. */
export interface ITierUse {
  tier: TierConfig;
  /** The group folder of a `{group}` tier; `''` on other tiers. */
  group: string;
  /** `tier` or `tier:group`: how the use is written in requests and the audit log. */
  ref: string;
  /** `HPCB_TIER_<NAME>`. */
  variable: string;
  /** The cluster path (sftp tiers) or `s3://bucket/prefix` (s3 tiers). */
  location: string;
  /** s3 tiers: the store's endpoint; null for sftp tiers. */
  s3Endpoint: string | null;
}

export const S3_ENDPOINT_VARIABLE = 'HPCB_S3_ENDPOINT';

/** `HPCB_TIER_<NAME>`: the tier name in capitals, `-` as `_` (names are `[a-z][a-z0-9-]*`). */
export function tierVariable(tierName: string): string {
  return `HPCB_TIER_${tierName.toUpperCase().replaceAll('-', '_')}`;
}

function parseRef(ref: string): { name: string; group: string | null } {
  const colon = ref.indexOf(':');
  return colon === -1
    ? { name: ref, group: null }
    : { name: ref.slice(0, colon), group: ref.slice(colon + 1) };
}

/** The group folder of a `{group}` tier: the one named, or the user's only one. */
function pickGroup(
  tier: TierConfig,
  user: IStorageUser,
  named: string | null
): string {
  const groups = scopesOf(tier, user).map(s => s.key);
  if (named !== null) {
    if (!groups.includes(named)) {
      throw new DomainError(
        'forbidden',
        `${tier.name}: "${named}" is not one of your groups on this tier`
      );
    }
    return named;
  }
  if (groups.length === 1) {
    return groups[0] as string;
  }
  throw new DomainError(
    'bad_request',
    `Tier ${tier.name} has one folder per group and you are in several: name one, e.g. ${groups
      .map(g => `"${tier.name}:${g}"`)
      .join(' or ')}`
  );
}

function locate(
  config: BridgeConfig,
  tier: TierConfig,
  user: IStorageUser,
  group: string
): { location: string; s3Endpoint: string | null } {
  const scope = { key: group, access: 'read' as const };
  if ('s3' in tier.location) {
    const { store, bucket, prefix } = tier.location.s3;
    const endpoint = config.s3.find(s => s.name === store)?.endpoint;
    if (endpoint === undefined) {
      throw new DomainError(
        'internal',
        `tier ${tier.name}: no s3 store ${store}`
      );
    }
    return {
      location: `s3://${bucket}/${rootOf(prefix, user.name, scope)}`,
      s3Endpoint: endpoint
    };
  }
  const { cluster, path } = tier.location.sftp;
  const c = config.clusters.find(k => k.name === cluster);
  if (c === undefined) {
    throw new DomainError(
      'internal',
      `tier ${tier.name}: no cluster ${cluster}`
    );
  }
  return {
    location: rootOf(path, clusterUserOf(c.userMapping, user.name), scope),
    s3Endpoint: null
  };
}

/**
 * The sensitive tiers among `refs` that the user may not read: their attempts are
 * audited as refusals, like the storage API's (the answer is the same 404 as for a
 * tier that does not exist).
 */
export function hiddenSensitiveTiers(
  config: BridgeConfig,
  user: IStorageUser,
  refs: readonly string[]
): string[] {
  return refs
    .map(ref => parseRef(ref).name)
    .filter(name => {
      const tier = config.storage.tiers.find(t => t.name === name);
      return (
        tier !== undefined &&
        tier.class === 'sensitive' &&
        tierAccess(tier, user) === null
      );
    });
}

/**
 * Resolves `tier` / `tier:group` references with the storage API's visibility rules:
 * a tier the user cannot read is answered like one that does not exist (404).
 * On a `{group}` tier the group is the named one, or the user's only group there.
 */
export function resolveTierUses(
  config: BridgeConfig,
  user: IStorageUser,
  refs: readonly string[]
): ITierUse[] {
  const directory = new TierDirectory(config.storage.tiers);
  const seen = new Set<string>();
  const uses = refs.map((ref): ITierUse => {
    const parsed = parseRef(ref);
    const tier = directory.tier(parsed.name, user);
    if (seen.has(tier.name)) {
      throw new DomainError(
        'bad_request',
        `Tier ${tier.name} is named twice; a job or an endpoint uses each tier once`
      );
    }
    seen.add(tier.name);
    if (!isGroupTier(tier) && parsed.group !== null) {
      throw new DomainError(
        'bad_request',
        `Tier ${tier.name} has no group folders: write "${tier.name}"`
      );
    }
    const group = isGroupTier(tier) ? pickGroup(tier, user, parsed.group) : '';
    return {
      tier,
      group,
      ref: group === '' ? tier.name : `${tier.name}:${group}`,
      variable: tierVariable(tier.name),
      ...locate(config, tier, user, group)
    };
  });
  const endpoints = new Set(
    uses.flatMap(u => (u.s3Endpoint === null ? [] : [u.s3Endpoint]))
  );
  if (endpoints.size > 1) {
    throw new DomainError(
      'bad_request',
      `Tiers ${uses
        .filter(u => u.s3Endpoint !== null)
        .map(u => u.tier.name)
        .join(
          ', '
        )} are on different S3 stores; one job or endpoint may use tiers of one S3 store (${S3_ENDPOINT_VARIABLE})`
    );
  }
  return uses;
}

/** The environment that tells a job or a replica where its tiers are. No credentials. */
export function tierEnvironment(
  uses: readonly ITierUse[]
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const use of uses) {
    env[use.variable] = use.location;
    if (use.s3Endpoint !== null) {
      env[S3_ENDPOINT_VARIABLE] = use.s3Endpoint;
    }
  }
  return env;
}

/** An sftp tier is a path on one cluster: only work on that cluster can reach it. */
export function checkReachable(
  uses: readonly ITierUse[],
  cluster: string | null,
  where: string
): void {
  for (const use of uses) {
    if (
      'sftp' in use.tier.location &&
      use.tier.location.sftp.cluster !== cluster
    ) {
      throw new DomainError(
        'bad_request',
        `Tier ${use.tier.name} is a path on cluster ${use.tier.location.sftp.cluster}; ${where} cannot reach it`
      );
    }
  }
}

/** The uses of sensitive tiers: each is audited. */
export function sensitiveOf(uses: readonly ITierUse[]): ITierUse[] {
  return uses.filter(u => u.tier.class === 'sensitive');
}

function tiersAreSensitive(uses: readonly ITierUse[]): string {
  return uses.length === 1
    ? `tier ${uses[0]?.tier.name} is sensitive`
    : `tiers ${uses.map(u => u.tier.name).join(', ')} are sensitive`;
}

function listOrNone(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.join(', ');
}

/** Rule `sensitive data only on compliant partitions`: throws its refusal. */
export function checkJobPolicy(
  uses: readonly ITierUse[],
  cluster: ClusterConfig,
  partition: string
): void {
  checkSensitiveTiersOnPartition(
    uses.map(u => u.tier),
    cluster,
    partition
  );
}

/** The same rule for tiers a job reads from: throws its refusal. */
export function checkSensitiveTiersOnPartition(
  tiers: readonly Pick<TierConfig, 'name' | 'class'>[],
  cluster: ClusterConfig,
  partition: string
): void {
  const sensitive = [
    ...new Set(tiers.filter(t => t.class === 'sensitive').map(t => t.name))
  ];
  if (
    sensitive.length > 0 &&
    !cluster.compliantPartitions.includes(partition)
  ) {
    throw policyRefusal(
      DATA_CLASS_RULES.jobPartition,
      `${namedSensitive(sensitive)}, partition ${partition} is not compliant (compliant: ${listOrNone(cluster.compliantPartitions)})`,
      {
        tiers: sensitive,
        partition,
        compliantPartitions: cluster.compliantPartitions
      }
    );
  }
}

/**
 * Rule `data derived from sensitive data never on public tiers`: a job that reads a
 * sensitive input may not write to a public tier. Throws its refusal.
 */
export function checkDerivedOutputs(
  inputs: readonly Pick<TierConfig, 'name' | 'class'>[],
  outputs: readonly Pick<TierConfig, 'name' | 'class'>[]
): void {
  const sensitive = [
    ...new Set(inputs.filter(t => t.class === 'sensitive').map(t => t.name))
  ];
  const open = [
    ...new Set(outputs.filter(t => t.class === 'public').map(t => t.name))
  ];
  if (sensitive.length > 0 && open.length > 0) {
    throw policyRefusal(
      DATA_CLASS_RULES.derivedData,
      `${namedSensitive(sensitive)} among the inputs, and ${open.length === 1 ? `tier ${open[0]} is` : `tiers ${open.join(', ')} are`} public`,
      { inputTiers: sensitive, outputTiers: open }
    );
  }
}

function namedSensitive(names: readonly string[]): string {
  return names.length === 1
    ? `tier ${names[0]} is sensitive`
    : `tiers ${names.join(', ')} are sensitive`;
}

/** The serving providers configured here and marked `compliant: true`. */
export function compliantProviders(
  serving: ServingConfig
): ServingProviderName[] {
  return (['local', 'slurm', 'openstack'] as const).filter(
    p => serving.providers[p]?.compliant === true
  );
}

/**
 * Rule `sensitive data only on compliant serving providers`, for the endpoint's provider
 * and its fallback (a replica may run on either): throws its refusal.
 */
export function checkEndpointPolicy(
  uses: readonly ITierUse[],
  serving: ServingConfig,
  provider: ServingProviderName,
  fallback: ServingProviderName | null
): void {
  const sensitive = sensitiveOf(uses);
  if (sensitive.length === 0) {
    return;
  }
  const compliant = compliantProviders(serving);
  for (const [role, name] of [
    ['provider', provider],
    ['fallback provider', fallback]
  ] as const) {
    if (name !== null && !compliant.includes(name)) {
      throw policyRefusal(
        DATA_CLASS_RULES.endpointProvider,
        `${tiersAreSensitive(sensitive)}, ${role} ${name} is not compliant (compliant: ${listOrNone(compliant)})`,
        {
          tiers: sensitive.map(u => u.tier.name),
          provider: name,
          compliantProviders: compliant
        }
      );
    }
  }
}
