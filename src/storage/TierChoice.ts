import { Routes, TierListSchema } from '@hpc-bridge/server/contract';
import type * as contract from '@hpc-bridge/server/contract';
import type { IBridgeClient } from '../tokens';

/**
 * The storage tiers a job or an endpoint may declare (`tiers` of the submit and
 * create requests): one choice per tier the user can read, or per group folder
 * of a `{group}` tier. Sensitive ones bring the data-class rules along.
 */
export namespace TierChoice {
  export type Tier = contract.Tier;
  export type TierClass = contract.TierClass;

  export interface IOption {
    /** What the request carries: `tier`, or `tier:group` for a group folder. */
    ref: string;
    tier: string;
    /** The group folder of a `{group}` tier; `null` elsewhere. */
    group: string | null;
    title: string;
    class: TierClass;
    /** What the user may do there (the job gets the location either way). */
    access: 'read' | 'write';
  }

  /** The tiers the user can read (`GET /tiers`). */
  export async function load(client: IBridgeClient): Promise<Tier[]> {
    const list = await client.request('GET', Routes.tiers, TierListSchema);
    return list.tiers;
  }

  /** The choices `tiers` offer, in their order; a group tier without groups offers none. */
  export function options(tiers: readonly Tier[]): IOption[] {
    return tiers.flatMap((tier): IOption[] => {
      const base = {
        tier: tier.name,
        title: tier.title,
        class: tier.class,
        access: tier.access
      };
      return tier.groups === null
        ? [{ ...base, ref: tier.name, group: null }]
        : tier.groups.map(group => ({
            ...base,
            ref: `${tier.name}:${group}`,
            group
          }));
    });
  }

  /** `chosen` with `ref` on or off, in the options' order (unknown refs dropped). */
  export function toggle(
    offered: readonly IOption[],
    chosen: readonly string[],
    ref: string,
    on: boolean
  ): string[] {
    const next = new Set(chosen);
    if (on) {
      next.add(ref);
    } else {
      next.delete(ref);
    }
    return offered.map(o => o.ref).filter(r => next.has(r));
  }

  /** The chosen options of class `sensitive` (their use is audited and restricted). */
  export function sensitive(
    offered: readonly IOption[],
    chosen: readonly string[]
  ): IOption[] {
    return offered.filter(
      o => o.class === 'sensitive' && chosen.includes(o.ref)
    );
  }

  /** The `tiers` part of a request: absent when none is chosen (the contract wants 1–16). */
  export function request(chosen: readonly string[]): { tiers?: string[] } {
    return chosen.length === 0 ? {} : { tiers: [...chosen] };
  }
}
