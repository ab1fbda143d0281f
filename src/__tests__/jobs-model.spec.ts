/**
 * @jest-environment node
 */
import {
  type BridgeEvent,
  type Job,
  type JobEstimate,
  type JobList,
  type JobListQuery,
  JobSchema,
  type JobSubmit,
  type Profile,
  type ProfileList,
  Routes,
  type Whoami
} from '@hpc-bridge/server/contract';
import type { z } from 'zod';
import { Signal } from '@lumino/signaling';
import { JobsModel } from '../jobs/JobsModel';
import { SubmitModel } from '../jobs/SubmitModel';
import { BridgeRequestError } from '../transport/errors';
import type { Bridge, IBridgeClient } from '../tokens';
import { identityTrans, job, waitFor } from './helpers';
import { TIERS } from './tier-fakes';

function parsedJob(overrides: Record<string, unknown> = {}): Job {
  return JobSchema.parse(job(overrides));
}

/** An event stream the test drives. */
class FakeStream implements Bridge.IEventStream {
  state: Bridge.EventStreamState = 'connecting';
  error: Error | null = null;
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
class FakeClient implements Partial<IBridgeClient> {
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

function asClient(fake: FakeClient): IBridgeClient {
  return fake as unknown as IBridgeClient;
}

describe('JobsModel', () => {
  const models: JobsModel[] = [];
  afterEach(() => models.splice(0).forEach(model => model.dispose()));

  function create(fake: FakeClient, auto = true): JobsModel {
    const model = new JobsModel({
      client: asClient(fake),
      pollInterval: 3600_000,
      auto
    });
    models.push(model);
    return model;
  }

  it('loads the list, then follows events and announces ends once', async () => {
    const fake = new FakeClient();
    fake.lists = [[parsedJob()]];
    const model = create(fake);
    await waitFor(() => !model.loading);
    expect(model.jobs.map(j => j.state)).toEqual(['RUNNING']);

    const ended: Job[] = [];
    model.jobEnded.connect((_, j) => ended.push(j));
    fake.stream.setState('open');
    expect(model.live).toBe(true);
    const done = parsedJob({
      state: 'COMPLETED',
      updatedAt: '2026-11-25T10:02:00.000Z'
    });
    fake.stream.received.emit({ type: 'job', job: done });
    fake.stream.received.emit({ type: 'job', job: done });
    // An older version arriving late does not go back.
    fake.stream.received.emit({ type: 'job', job: parsedJob() });
    expect(model.jobs[0].state).toBe('COMPLETED');
    expect(ended.map(j => j.id)).toEqual(['j1']);
  });

  it('does not announce jobs that had ended before it started', async () => {
    const fake = new FakeClient();
    fake.lists = [[parsedJob({ state: 'FAILED' })]];
    const model = create(fake);
    const ended: Job[] = [];
    model.jobEnded.connect((_, j) => ended.push(j));
    await waitFor(() => !model.loading);
    expect(ended).toEqual([]);
  });

  it('falls back to polling when the stream drops', async () => {
    const fake = new FakeClient();
    fake.lists = [
      [parsedJob()],
      [
        parsedJob({
          state: 'COMPLETED',
          updatedAt: '2026-11-25T10:03:00.000Z'
        })
      ]
    ];
    const model = create(fake);
    await waitFor(() => !model.loading);
    const ended: string[] = [];
    model.jobEnded.connect((_, j) => ended.push(j.state));
    fake.stream.setState('connecting');
    await waitFor(() => ended.length === 1);
    expect(fake.calls.filter(c => c === 'list').length).toBeGreaterThan(1);
    expect(model.live).toBe(false);
  });

  it('filters by state, name and date', async () => {
    const fake = new FakeClient();
    fake.lists = [
      [
        parsedJob({ id: 'a', name: 'Sweep-lr' }),
        parsedJob({
          id: 'b',
          name: 'analysis',
          state: 'FAILED',
          submittedAt: '2026-11-20T10:00:00.000Z'
        })
      ]
    ];
    const model = create(fake);
    await waitFor(() => !model.loading);
    model.filters = { name: 'sweep' };
    expect(model.filtered.map(j => j.id)).toEqual(['a']);
    model.filters = { state: 'FAILED' };
    expect(model.filtered.map(j => j.id)).toEqual(['b']);
    model.filters = { since: '2026-11-24' };
    expect(model.filtered.map(j => j.id)).toEqual(['a']);
  });

  it('shows a long list a page at a time, newest first, from the first page again after a filter', async () => {
    const fake = new FakeClient();
    const minute = (i: number) =>
      new Date(Date.UTC(2026, 10, 20) + i * 60_000).toISOString();
    const count = JobsModel.PAGE_SIZE * 2 + 50;
    fake.lists = [
      Array.from({ length: count }, (_, i) =>
        parsedJob({
          id: `j${i}`,
          name: i % 2 === 0 ? 'even' : 'odd',
          submittedAt: minute(i)
        })
      )
    ];
    const model = create(fake);
    await waitFor(() => !model.loading);
    expect(model.jobs).toHaveLength(count);
    expect(model.shown).toHaveLength(JobsModel.PAGE_SIZE);
    expect(model.shown[0]?.id).toBe(`j${count - 1}`);
    model.showMore();
    model.showMore();
    expect(model.shown).toHaveLength(count);
    model.filters = { name: 'even' };
    expect(model.shown).toHaveLength(JobsModel.PAGE_SIZE);
    expect(model.shown.every(j => j.name === 'even')).toBe(true);
    expect(model.filtered).toHaveLength(count / 2);
  });

  it('acts on jobs and keeps the error of a refused action', async () => {
    const fake = new FakeClient();
    fake.lists = [[parsedJob()]];
    const model = create(fake);
    await waitFor(() => !model.loading);
    await model.act('j1', 'cancel');
    expect(model.jobs.find(j => j.id === 'j1')?.state).toBe('CANCELLED');
    await expect(model.act('j1', 'hold')).rejects.toThrow('denied');
    expect(model.actionError?.message).toContain('denied');
    const copy = await model.act('j1', 'resubmit');
    expect(copy.resubmittedFrom).toBe('j1');
    expect(model.selectedId).toBe('j2');
    expect(model.busy.size).toBe(0);
  });

  it('offers the actions that fit the state', () => {
    expect(JobsModel.actions(parsedJob({ state: 'RUNNING' }))).toEqual([
      'cancel'
    ]);
    const held = parsedJob({
      state: 'PENDING',
      elements: [
        {
          ...parsedJob().elements[0],
          state: 'PENDING',
          reason: 'JobHeldUser'
        }
      ]
    });
    expect(JobsModel.actions(held)).toEqual(['cancel', 'release']);
    expect(JobsModel.actions(parsedJob({ state: 'FAILED' }))).toEqual([
      'resubmit'
    ]);
    expect(JobsModel.progress(parsedJob())).toEqual({ cell: 7, of: 20 });
  });

  describe('all users', () => {
    const ADMIN: Whoami = {
      name: 'alice',
      groups: [],
      roles: ['researcher', 'admin']
    };
    const mine = () => parsedJob({ id: 'a1', owner: 'alice' });
    const bobs = () =>
      parsedJob({
        id: 'b1',
        owner: 'bob',
        submittedAt: '2026-11-25T09:00:00.000Z'
      });

    it('lists every user with all=true for admins, and back to their own', async () => {
      const fake = new FakeClient();
      fake.user = ADMIN;
      fake.lists = [[mine()]];
      fake.allList = [mine(), bobs()];
      const model = create(fake);
      await waitFor(() => !model.loading);
      expect(model.canShowAll).toBe(true);
      expect(model.showAll).toBe(false);
      expect(fake.queries).toEqual([{}]);

      model.showAll = true;
      await waitFor(() => model.jobs.length === 2);
      expect(fake.queries.at(-1)).toEqual({ all: 'true' });
      expect(model.jobs.map(j => j.owner)).toEqual(['alice', 'bob']);
      // Other users' jobs arrive over the stream while shown.
      fake.stream.setState('open');
      await waitFor(() => fake.calls.filter(c => c === 'list:all').length > 1);
      fake.stream.received.emit({
        type: 'job',
        job: parsedJob({ id: 'c1', owner: 'carol' })
      });
      expect(model.jobs.map(j => j.id)).toContain('c1');

      model.selectedId = 'b1';
      model.showAll = false;
      // Others' jobs leave at once, the selection with them.
      expect(model.jobs.map(j => j.id)).toEqual(['a1']);
      expect(model.selectedId).toBeNull();
      await waitFor(() => fake.queries.at(-1)?.all === undefined);
      expect(model.jobs.map(j => j.id)).toEqual(['a1']);
    });

    it('never offers nor sends all=true to users who are not admins', async () => {
      const fake = new FakeClient();
      fake.lists = [[bobs()]];
      fake.allList = [bobs(), mine()];
      const model = create(fake);
      await waitFor(() => !model.loading);
      expect(model.user?.name).toBe('bob');
      expect(model.canShowAll).toBe(false);
      model.showAll = true;
      expect(model.showAll).toBe(false);
      await model.refresh();
      expect(fake.queries.length).toBeGreaterThan(1);
      expect(fake.queries.every(q => q.all === undefined)).toBe(true);
      expect(fake.calls).not.toContain('list:all');
    });

    it("ignores other users' events while off, and announces only own ends", async () => {
      const fake = new FakeClient();
      fake.user = ADMIN;
      fake.lists = [[mine()]];
      fake.allList = [mine(), bobs()];
      const model = create(fake);
      await waitFor(() => !model.loading);
      const ended: string[] = [];
      model.jobEnded.connect((_, j) => ended.push(j.id));

      fake.stream.received.emit({ type: 'job', job: bobs() });
      expect(model.jobs.map(j => j.id)).toEqual(['a1']);

      const later = '2026-11-25T10:05:00.000Z';
      fake.stream.received.emit({
        type: 'job',
        job: parsedJob({
          id: 'a1',
          owner: 'alice',
          state: 'COMPLETED',
          updatedAt: later
        })
      });
      expect(model.jobs[0].state).toBe('COMPLETED');

      model.showAll = true;
      await waitFor(() => model.jobs.length === 2);
      fake.stream.received.emit({
        type: 'job',
        job: parsedJob({
          id: 'b1',
          owner: 'bob',
          state: 'FAILED',
          submittedAt: '2026-11-25T09:00:00.000Z',
          updatedAt: later
        })
      });
      expect(model.jobs.find(j => j.id === 'b1')?.state).toBe('FAILED');
      expect(ended).toEqual(['a1']);
    });
  });

  it('stops everything when disposed', async () => {
    const fake = new FakeClient();
    const model = create(fake, false);
    model.start();
    model.dispose();
    expect(fake.stream.isDisposed).toBe(true);
    expect(model.isDisposed).toBe(true);
  });
});

describe('SubmitModel', () => {
  const PROFILE: Profile = {
    name: 'cpu-small',
    title: 'CPU small',
    cluster: 'demo',
    partition: 'cpu',
    timeMinutes: { default: 10, min: 1, max: 60 },
    cpus: { default: 1, min: 1, max: 2 },
    memoryMB: { default: 500, min: 100, max: 4000 },
    gpus: { default: 0, min: 0, max: 0 }
  };
  const NOTEBOOK = {
    path: 'work/My Sweep.ipynb',
    content: {
      nbformat: 4 as const,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        {
          cell_type: 'code' as const,
          source: "alpha = 0.5\nopt = 'adam'",
          metadata: { tags: ['parameters'] }
        }
      ]
    }
  };

  async function create(submit = jest.fn()) {
    const fake = new FakeClient();
    fake.profilesAnswer = { profiles: [PROFILE] };
    const model = new SubmitModel({
      client: asClient(fake),
      trans: identityTrans(),
      notebook: NOTEBOOK,
      submit,
      estimateDelay: 1
    });
    await waitFor(() => model.profile !== null);
    return { model, fake };
  }

  it('pre-fills name, profile defaults and parameters', async () => {
    const { model } = await create();
    expect(model.name).toBe('My-Sweep');
    expect(model.resources).toEqual({
      timeMinutes: '10',
      cpus: '1',
      memoryMB: '500',
      gpus: '0'
    });
    expect(model.parameters).toEqual({ alpha: '0.5', opt: "'adam'" });
    expect(model.valid).toBe(true);
    model.dispose();
  });

  it('bounds resources by the profile and checks literals', async () => {
    const { model } = await create();
    model.setResource('cpus', '8');
    model.setParameter('alpha', 'os.system("id")');
    model.setName('bad name;');
    expect(Object.keys(model.errors).sort()).toEqual([
      'cpus',
      'name',
      'param:alpha'
    ]);
    expect(model.errors['cpus']).toBe('Between 1 and 2 for this profile.');
    expect(model.request()).toBeNull();
    model.dispose();
  });

  it('builds a sweep and counts the array, then asks for an estimate', async () => {
    const { model, fake } = await create();
    model.setSweep('alpha', '0.1, 0.2, 0.3');
    model.setSweep('opt', 'adam, sgd');
    expect(model.sweepElements).toBe(6);
    const request = model.request();
    expect(request?.sweep).toEqual({
      alpha: [0.1, 0.2, 0.3],
      opt: ['adam', 'sgd']
    });
    expect(request?.resources).toEqual({
      timeMinutes: 10,
      cpus: 1,
      memoryMB: 500,
      gpus: 0
    });
    await waitFor(
      () =>
        fake.estimates.some(e => e.sweep !== undefined) &&
        model.estimate.result !== null &&
        !model.estimate.loading
    );
    expect(fake.estimates.at(-1)?.sweep).toEqual(request?.sweep);
    expect(model.estimate.result?.expectedStart).toBe(
      '2026-11-25T10:05:00.000Z'
    );
    model.dispose();
  });

  it('offers the tiers the user can read and sends the chosen ones', async () => {
    const { model, fake } = await create();
    await waitFor(() => !model.loadingTiers && model.tierOptions.length > 0);
    expect(fake.calls).toContain(`GET ${Routes.tiers}`);
    expect(model.tierOptions.map(o => o.ref)).toEqual([
      'scratch',
      'project:ml101',
      'project:climate',
      'archive',
      'sensitive:medical'
    ]);
    expect(model.request()).not.toHaveProperty('tiers');
    model.setTiers(['archive', 'scratch', 'not-offered']);
    expect(model.tiers).toEqual(['scratch', 'archive']);
    expect(model.request()?.tiers).toEqual(['scratch', 'archive']);
    expect(model.sensitiveTiers).toEqual([]);
    model.setTiers([...model.tiers, 'sensitive:medical']);
    expect(model.sensitiveTiers.map(o => o.ref)).toEqual(['sensitive:medical']);
    await waitFor(() =>
      fake.estimates.some(e => e.tiers?.includes('sensitive:medical'))
    );
    model.dispose();
  });

  it('submits without tiers when they cannot be listed', async () => {
    const fake = new FakeClient();
    fake.profilesAnswer = { profiles: [PROFILE] };
    fake.tiersAnswer = new Error('The storage backend does not answer');
    const submit = jest.fn().mockResolvedValue(JobSchema.parse(job()));
    const model = new SubmitModel({
      client: asClient(fake),
      trans: identityTrans(),
      notebook: NOTEBOOK,
      submit,
      estimateDelay: 1
    });
    await waitFor(() => model.profile !== null && !model.loadingTiers);
    expect(model.tiersError?.message).toBe(
      'The storage backend does not answer'
    );
    expect(model.tierOptions).toEqual([]);
    expect((await model.submit())?.id).toBe('j1');
    expect(submit.mock.calls[0]?.[0]).not.toHaveProperty('tiers');
    model.dispose();
  });

  it("keeps the chosen tiers and shows the bridge's policy sentence when it refuses", async () => {
    const refusal =
      "Refused by the data-class rule 'sensitive data only on compliant partitions': partition cpu is not approved for sensitive data";
    const submit = jest.fn().mockRejectedValueOnce(new Error(refusal));
    const { model } = await create(submit);
    await waitFor(() => model.tierOptions.length > 0);
    model.setTiers(['sensitive:medical']);
    expect(await model.submit()).toBeNull();
    expect(submit.mock.calls[0]?.[0].tiers).toEqual(['sensitive:medical']);
    expect(model.submitError?.message).toBe(refusal);
    expect(model.tiers).toEqual(['sensitive:medical']);
    model.dispose();
  });

  it('keeps the bridge error and the form when the submission fails', async () => {
    const submit = jest
      .fn()
      .mockRejectedValueOnce(new Error('Partition gpu: no GPUs'))
      .mockResolvedValueOnce(JobSchema.parse(job()));
    const { model } = await create(submit);
    expect(await model.submit()).toBeNull();
    expect(model.submitError?.message).toBe('Partition gpu: no GPUs');
    const submitted = await model.submit();
    expect(submitted?.id).toBe('j1');
    expect(model.submitted?.id).toBe('j1');
    expect(submit).toHaveBeenCalledTimes(2);
    model.dispose();
  });
  describe('a sensitive tier on a partition that is not compliant', () => {
    const GPU: Profile = {
      ...PROFILE,
      name: 'gpu-1',
      title: 'One GPU',
      partition: 'gpu',
      gpus: { default: 1, min: 1, max: 2 }
    };
    const refusal = (request: JobSubmit): Error | null =>
      request.profile === 'cpu-small' &&
      request.tiers?.includes('sensitive:medical')
        ? new BridgeRequestError({
            reason: 'http',
            status: 403,
            url: null,
            message:
              "Refused by the data-class rule 'sensitive data only on compliant partitions': tier sensitive is sensitive, partition cpu is not compliant (compliant: gpu)",
            body: {
              error: {
                code: 'policy_refused',
                message: 'Refused',
                details: {
                  rule: 'sensitive data only on compliant partitions',
                  tiers: ['sensitive'],
                  partition: 'cpu',
                  compliantPartitions: ['gpu']
                }
              }
            }
          })
        : null;

    async function createRefusing(submit = jest.fn()) {
      const fake = new FakeClient();
      fake.profilesAnswer = { profiles: [PROFILE, GPU] };
      fake.estimateRefusal = refusal;
      const model = new SubmitModel({
        client: asClient(fake),
        trans: identityTrans(),
        notebook: NOTEBOOK,
        submit,
        estimateDelay: 1
      });
      await waitFor(
        () => model.profile !== null && model.tierOptions.length > 0
      );
      return model;
    }

    it('learns the rule from the estimate, disables Submit and offers the compliant profile', async () => {
      const submit = jest.fn();
      const model = await createRefusing(submit);
      expect(model.refusal).toBeNull();
      model.setTiers(['sensitive:medical']);
      await waitFor(() => model.refusal !== null);
      expect(model.refusal?.rule).toBe(
        'sensitive data only on compliant partitions'
      );
      expect(model.refusal?.message).toContain('partition cpu');
      expect(model.refusal?.compliantProfiles.map(p => p.name)).toEqual([
        'gpu-1'
      ]);
      expect(model.valid).toBe(true);
      expect(model.canSubmit).toBe(false);
      expect(await model.submit()).toBeNull();
      expect(submit).not.toHaveBeenCalled();

      model.setProfile('gpu-1');
      expect(model.refusal).toBeNull();
      expect(model.canSubmit).toBe(true);
      // What was learnt stays: back on cpu, the refusal shows at once.
      model.setProfile('cpu-small');
      expect(model.refusal).not.toBeNull();
      model.setTiers([]);
      expect(model.refusal).toBeNull();
      model.dispose();
    });

    it('learns the rule from a refused submission too', async () => {
      const submit = jest
        .fn()
        .mockImplementation(async (request: JobSubmit) => {
          throw refusal(request);
        });
      const model = await createRefusing(submit);
      model.setTiers(['sensitive:medical']);
      // The submission goes before the estimate answers.
      expect(await model.submit()).toBeNull();
      expect(model.refusal?.compliantProfiles.map(p => p.name)).toEqual([
        'gpu-1'
      ]);
      model.dispose();
    });

    it('ignores refusals of other kinds', async () => {
      const model = await createRefusing(
        jest.fn().mockRejectedValue(new Error('Partition gpu: no GPUs'))
      );
      model.setTiers(['scratch']);
      expect(await model.submit()).toBeNull();
      expect(model.refusal).toBeNull();
      model.dispose();
    });

    it('hides the GPUs field where the profile allows none', async () => {
      const model = await createRefusing();
      expect(model.shownResources).toEqual(['timeMinutes', 'cpus', 'memoryMB']);
      model.setProfile('gpu-1');
      expect(model.shownResources).toEqual([
        'timeMinutes',
        'cpus',
        'memoryMB',
        'gpus'
      ]);
      model.dispose();
    });
  });
});
