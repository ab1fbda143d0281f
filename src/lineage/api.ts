import {
  type Job,
  type Lineage,
  LineageSchema,
  Routes
} from '@hpc-bridge/server/contract';
import type { IBridgeClient } from '../tokens';

/**
 * The lineage route of the bridge and the resubmit of the job that made an
 * object, typed by the contract.
 */
export interface ILineageApi {
  /** The object's record and those of its inputs, back to the raw ones. */
  lineage(tier: string, path: string): Promise<Lineage>;
  /** Runs the job again with the same notebook, parameters and inputs. */
  resubmit(jobId: string): Promise<Job>;
}

/** `ILineageApi` over the bridge client. */
export class LineageApi implements ILineageApi {
  constructor(private readonly _client: IBridgeClient) {}

  lineage(tier: string, path: string): Promise<Lineage> {
    return this._client.request('GET', Routes.lineage, LineageSchema, {
      query: { tier, path }
    });
  }

  resubmit(jobId: string): Promise<Job> {
    return this._client.jobAction(jobId, 'resubmit');
  }
}
