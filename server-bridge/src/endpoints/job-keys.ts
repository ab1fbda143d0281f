/**
 * Keys the bridge makes for jobs that declared endpoints (`endpoint_keys.job_id`,
 * migration 18), and what the job asked of each endpoint, summed from the gateway's usage
 * rows of those keys. A job may declare only endpoints its owner owns: the owner alone
 * makes keys of an endpoint (routes/endpoint-keys.ts).
 */
import type { IAuthUser } from '../auth/decide';
import type { JobCall, JobEndpoint } from '../contract';
import { DomainError } from '../domain-error';
import { envStem, type IJobEndpoints } from '../jobs/job-endpoints';
import type { EndpointKeys } from './keys';
import type { EndpointTable, IEndpointRecord } from './repository/endpoints';
import type { EndpointUsage } from './usage';
import { visibleTo } from './service';

export interface IJobKeysDeps {
  table: EndpointTable;
  keys: EndpointKeys;
  usage: EndpointUsage;
  gatewayUrl: string;
}

const minuteAt = (minute: number): string =>
  new Date(minute * 60_000).toISOString();

export class JobKeys implements IJobEndpoints {
  readonly gatewayUrl: string;

  constructor(private readonly deps: IJobKeysDeps) {
    this.gatewayUrl = deps.gatewayUrl;
  }

  resolve(user: IAuthUser, refs: readonly string[]): JobEndpoint[] {
    return refs.map(ref => {
      const ep = this.find(user, ref);
      if (ep.owner !== user.name) {
        throw new DomainError(
          'forbidden',
          `A job may call only your own endpoints; ${ep.name} is ${ep.owner}'s`,
          { field: 'endpoints', endpoint: ref }
        );
      }
      return { id: ep.id, name: ep.name, env: envStem(ep.name) };
    });
  }

  /** By id, else by name among the user's own, else among those shared with them. */
  private find(user: IAuthUser, ref: string): IEndpointRecord {
    const byId = this.deps.table.get(ref);
    const found =
      byId !== undefined && visibleTo(user, byId)
        ? byId
        : (this.deps.table.byName(user.name, ref) ??
          this.deps.table
            .list()
            .find(ep => ep.name === ref && visibleTo(user, ep)));
    if (found === undefined) {
      throw new DomainError('not_found', `No endpoint ${ref}`, {
        field: 'endpoints',
        endpoint: ref
      });
    }
    return found;
  }

  mint(
    user: IAuthUser,
    jobId: string,
    endpoints: readonly JobEndpoint[]
  ): Map<string, string> {
    return new Map(
      endpoints.map(ep => [
        ep.id,
        this.deps.keys.create(ep.id, user.name, {
          name: `job ${jobId}`,
          jobId
        }).key
      ])
    );
  }

  revoke(jobId: string): void {
    this.deps.keys.revokeJob(jobId);
  }

  /** At start: the keys of jobs that ended while the bridge was away; how many. */
  revokeEnded(): number {
    return this.deps.keys.revokeOfEndedJobs();
  }

  /**
   * Per endpoint the job declared, its requests and tokens through the job's keys, and
   * the minutes of the first and last call; null when the job declared none.
   */
  calls(jobId: string): JobCall[] | null {
    const keys = this.deps.keys.ofJob(jobId);
    if (keys.length === 0) {
      return null;
    }
    const used = new Map(
      this.deps.usage.ofJob(jobId).map(row => [row.endpointId, row])
    );
    const seen = new Set<string>();
    const calls: JobCall[] = [];
    for (const key of keys) {
      if (seen.has(key.endpointId)) {
        continue;
      }
      seen.add(key.endpointId);
      const ep = this.deps.table.get(key.endpointId);
      const row = used.get(key.endpointId);
      calls.push({
        endpointId: key.endpointId,
        endpoint: ep?.name ?? key.endpointId,
        model: ep?.model ?? null,
        requests: row?.requests ?? 0,
        promptTokens: row?.promptTokens ?? 0,
        completionTokens: row?.completionTokens ?? 0,
        firstAt: row === undefined ? null : minuteAt(row.firstMinute),
        lastAt: row === undefined ? null : minuteAt(row.lastMinute + 1)
      });
    }
    return calls;
  }
}
