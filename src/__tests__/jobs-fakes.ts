/** A bridge client and event stream for the jobs and submit model tests. */
import {
  type BridgeEvent,
  type ClusterList,
  type Job,
  type JobEstimate,
  type JobList,
  type JobListQuery,
  JobSchema,
  type JobSubmit,
  type ProfileList,
  Routes,
  type Whoami
} from '@hpc-bridge/server/contract';
import type { z } from 'zod';
import { Signal } from '@lumino/signaling';
import type { Bridge, IBridgeClient } from '../tokens';
import { job } from './helpers';
import { TIERS } from './tier-fakes';
export function parsedJob(overrides: Record<string, unknown> = {}): Job {
  return JobSchema.parse(job(overrides));
}

/** An event stream the test drives. */
export class FakeStream implements Bridge.IEventStream {
  state: Bridge.EventStreamState = 'connecting';
  error: Error | null = null;
  resumed = false;
  isDisposed = false;
  readonly stateChanged = new Signal<this, Bridge.EventStreamState>(this);
  readonly received = new Signal<this, BridgeEvent>(this);
  setState(state: Bridge.EventStreamState): void {
    this.state = state;
    this.stateChanged.emit(state);
  }
  dispose(): void {
    this.isDisposed = true;
    this.state = 'closed';
  }
}

/** Answers list requests from `lists` and records the calls. */
export class FakeClient implements Partial<IBridgeClient> {
  lists: Job[][] = [];
  /** Answers `all=true` list requests, when set. */
  allList: Job[] | null = null;
  calls: string[] = [];
  queries: JobListQuery[] = [];
  user: Whoami = { name: 'bob', groups: [], roles: ['researcher'] };
  stream = new FakeStream();
  readonly baseUrlChanged = new Signal<IBridgeClient, string | null>(
    this as unknown as IBridgeClient
  );
  profilesAnswer: ProfileList = { profiles: [] };
  clustersAnswer: ClusterList = { clusters: [] };
  estimates: JobSubmit[] = [];
  /** Thrown by `estimate` for requests it matches. */
  estimateRefusal: ((request: JobSubmit) => Error | null) | null = null;

  async whoami(): Promise<Whoami> {
    return this.user;
  }
  async listJobs(query: JobListQuery = {}): Promise<JobList> {
    this.queries.push(query);
    if (query.all === 'true') {
      this.calls.push('list:all');
      return { jobs: this.allList ?? [] };
    }
    this.calls.push('list');
    const jobs = this.lists.length > 1 ? this.lists.shift() : this.lists[0];
    return { jobs: jobs ?? [] };
  }
  async jobAction(id: string, action: Bridge.JobAction): Promise<Job> {
    this.calls.push(`${action}:${id}`);
    if (action === 'hold') {
      throw new Error('Access/permission denied');
    }
    return action === 'resubmit'
      ? parsedJob({ id: 'j2', state: 'SUBMITTED', resubmittedFrom: id })
      : parsedJob({
          id,
          state: 'CANCELLED',
          updatedAt: '2026-11-25T10:01:00.000Z'
        });
  }
  async getJob(id: string): Promise<Job> {
    return parsedJob({ id });
  }
  events(): Bridge.IEventStream {
    this.calls.push('events');
    return this.stream;
  }
  async profiles(): Promise<ProfileList> {
    return this.profilesAnswer;
  }
  async clusters(): Promise<ClusterList> {
    return this.clustersAnswer;
  }
  async estimate(request: JobSubmit): Promise<JobEstimate> {
    this.estimates.push(request);
    const refusal = this.estimateRefusal?.(request);
    if (refusal) {
      throw refusal;
    }
    return { expectedStart: '2026-11-25T10:05:00.000Z', message: 'ok' };
  }
  /** `GET /tiers` answers this (an Error is thrown). */
  tiersAnswer: unknown = { tiers: TIERS };
  async request<T>(
    method: Bridge.Method,
    route: string,
    schema: z.ZodType<T>
  ): Promise<T> {
    this.calls.push(`${method} ${route}`);
    if (method !== 'GET' || route !== Routes.tiers) {
      throw new Error(`unexpected request ${method} ${route}`);
    }
    if (this.tiersAnswer instanceof Error) {
      throw this.tiersAnswer;
    }
    return schema.parse(this.tiersAnswer);
  }
}

export function asClient(fake: FakeClient): IBridgeClient {
  return fake as unknown as IBridgeClient;
}
