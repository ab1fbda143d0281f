import type * as contract from '@hpc-bridge/server/contract';
import type { TranslationBundle } from '@jupyterlab/translation';
import { z } from 'zod';
import { BridgeRequestError } from '../transport/errors';

/** The details of a `policy_refused` answer for sensitive tiers on a partition. */
const PartitionRefusalSchema = z.object({
  rule: z.string(),
  compliantPartitions: z.array(z.string())
});

/**
 * The data-class rule "sensitive data only on compliant partitions" as the
 * bridge's refusals teach it: per cluster, the partitions that may use
 * sensitive tiers.
 */
export class PartitionCompliance {
  /**
   * Keeps what a refusal of a job on the profile `name` (one of `profiles`)
   * says; `false` when `error` is not such a refusal.
   */
  learn(
    profiles: readonly contract.Profile[],
    name: string,
    error: unknown
  ): boolean {
    const profile = profiles.find(p => p.name === name);
    if (
      !profile ||
      !(error instanceof BridgeRequestError) ||
      error.code !== 'policy_refused'
    ) {
      return false;
    }
    const details = PartitionRefusalSchema.safeParse(error.body?.error.details);
    if (!details.success) {
      return false;
    }
    this._clusters.set(profile.cluster, {
      rule: details.data.rule,
      partitions: details.data.compliantPartitions
    });
    return true;
  }

  /**
   * Why a job with sensitive tiers on `profile` will be refused, with the
   * profiles of `profiles` it may use instead; `null` when nothing known
   * stands against it.
   */
  refusal(
    trans: TranslationBundle,
    profile: contract.Profile,
    profiles: readonly contract.Profile[]
  ): PartitionCompliance.IRefusal | null {
    const known = this._clusters.get(profile.cluster);
    if (!known || known.partitions.includes(profile.partition)) {
      return null;
    }
    return {
      rule: known.rule,
      message: trans.__(
        "Refused by the data-class rule '%1': %2 runs on partition %3, which may not use sensitive data (compliant: %4).",
        known.rule,
        profile.title,
        profile.partition,
        known.partitions.length > 0
          ? known.partitions.join(', ')
          : trans.__('none')
      ),
      compliantProfiles: profiles.filter(
        p =>
          p.cluster === profile.cluster &&
          known.partitions.includes(p.partition)
      )
    };
  }

  private readonly _clusters = new Map<
    string,
    { rule: string; partitions: readonly string[] }
  >();
}

export namespace PartitionCompliance {
  /** A choice the bridge will refuse, and the profiles it would take instead. */
  export interface IRefusal {
    /** The data-class rule's name. */
    rule: string;
    /** The rule and why it applies, in a sentence. */
    message: string;
    /** Profiles of the same cluster on a compliant partition. */
    compliantProfiles: readonly contract.Profile[];
  }
}
