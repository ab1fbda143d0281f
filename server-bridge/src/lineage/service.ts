/**
 * Lineage answers: what made an object, and what made its inputs, back to the raw data.
 * The caller must be able to read the object; an input they cannot read (or that is
 * another user's on a per-user tier) is named as withheld and not followed.
 */
import type { JobCall, Lineage, LineageRecord } from '../contract';
import type { StorageService } from '../storage/service';
import type { IStagedPlace } from '../storage/staging';
import type { IStorageUser } from '../storage/tiers';
import {
  versionKey,
  type LineageTable,
  type StoredInput
} from './repository/lineage';

/** How many jobs back a chain is followed. */
export const MAX_LINEAGE_DEPTH = 10;

/** What a job asked of the endpoints it declared; null when it declared none. */
export type JobCallsOf = (jobId: string) => JobCall[] | null;

export class LineageService {
  constructor(
    private readonly table: LineageTable,
    private readonly storage: StorageService,
    private readonly callsOf: JobCallsOf = () => null
  ) {}

  /** The record with the gateway calls of its job, as they are now. */
  private withCalls(record: LineageRecord): LineageRecord {
    const calls = this.callsOf(record.job.id);
    return calls === null
      ? record
      : { ...record, job: { ...record.job, calls } };
  }

  async chain(
    user: IStorageUser,
    tier: string,
    path: string
  ): Promise<Lineage> {
    const place = await this.storage.staging.source(user, tier, path);
    const records: LineageRecord[] = [];
    const withheld: { tier: string; path: string }[] = [];
    const seen = new Set<string>();
    let truncated = false;
    let level: StoredInput[] = [];
    const first = this.table.find(place);
    if (first !== undefined) {
      records.push(this.withCalls(first.record));
      level = first.inputs;
    }
    for (let depth = 1; level.length > 0; depth++) {
      if (depth > MAX_LINEAGE_DEPTH) {
        truncated = true;
        break;
      }
      const next: StoredInput[] = [];
      for (const input of level) {
        const key = `${input.tier}\0${input.scopeRoot}\0${input.path}\0${versionKey(input.version)}`;
        if (seen.has(key)) {
          continue;
        }
        seen.add(key);
        if (!this.readable(user, input)) {
          withheld.push({ tier: input.tier, path: input.path });
          continue;
        }
        const found = this.table.find(input);
        if (found !== undefined) {
          records.push(this.withCalls(found.record));
          next.push(...found.inputs);
        }
      }
      level = next;
    }
    return { tier: place.tier, path: place.path, records, withheld, truncated };
  }

  /** Whether `user` reaches the same object at that tier path (per-user tiers differ). */
  private readable(user: IStorageUser, input: StoredInput): boolean {
    let place: IStagedPlace;
    try {
      place = this.storage.staging.readablePlace(user, input.tier, input.path);
    } catch {
      return false;
    }
    return place.scopeRoot === input.scopeRoot;
  }
}
