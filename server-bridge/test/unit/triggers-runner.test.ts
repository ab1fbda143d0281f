/**
 * The trigger runner on a fake cluster and in-memory tiers: object and job events, the
 * submit and copy actions, limits, pause, idempotency and the recovery of runs a
 * restart left `starting`.
 */
import { RunTable } from '../../src/triggers/repository/runs';
import { TriggerTable } from '../../src/triggers/repository/triggers';
import { unavailableRoller } from '../../src/triggers/actions/roll-endpoint';
import { nextRunState } from '../../src/triggers/run-states';
import {
  ALICE,
  JOB,
  triggerHarness,
  type TriggerHarness
} from './trigger-fakes';

const WATCH = {
  kind: 'object.created' as const,
  prefix: 'project:ml101/incoming/'
};
const SUBMIT = { kind: 'submit' as const, job: JOB };
const COPY = { kind: 'copy' as const, to: 'archive:copies/' };
const SECOND = 31_000;

function world(options: Parameters<typeof triggerHarness>[0] = {}) {
  const h = triggerHarness(options);
  h.project.put('ml101/incoming/old.csv', 'old');
  return h;
}

const runsOf = (h: TriggerHarness, id: string) =>
  new RunTable(h.store).list(id, 100).reverse();

/** One tick after the object scan interval. */
async function later(h: TriggerHarness): Promise<void> {
  h.advance(SECOND);
  await h.runner.tick();
}

describe('object.created', () => {
  it('does not fire for what was there, fires a new object once, and a new version again', async () => {
    const h = world();
    const t = await h.create({ name: 'w', source: WATCH, action: COPY });
    await later(h);
    expect(runsOf(h, t.id)).toEqual([]);

    h.project.put('ml101/incoming/new.csv', 'a,b');
    await later(h);
    await later(h);
    expect(runsOf(h, t.id).map(r => r.event.uri)).toEqual([
      'project:ml101/incoming/new.csv'
    ]);

    h.project.put('ml101/incoming/new.csv', 'a,b,c');
    await later(h);
    expect(
      runsOf(h, t.id).map(r => [r.event.uri, r.event.version?.size])
    ).toEqual([
      ['project:ml101/incoming/new.csv', 3],
      ['project:ml101/incoming/new.csv', 5]
    ]);
  });

  it('matches the glob on file names only', async () => {
    const h = world();
    const t = await h.create({
      name: 'csv',
      source: { ...WATCH, match: '*.csv' },
      action: COPY
    });
    h.project.put('ml101/incoming/notes.txt', 'x');
    h.project.put('ml101/incoming/b.csv', 'x');
    await later(h);
    expect(runsOf(h, t.id).map(r => r.event.uri)).toEqual([
      'project:ml101/incoming/b.csv'
    ]);
  });

  it('scans a big folder a bounded page at a time and goes on at the next tick', async () => {
    const h = world();
    const t = await h.create({ name: 'w', source: WATCH, action: COPY });
    for (const n of ['a', 'b', 'c', 'd', 'e']) {
      h.project.put(`ml101/incoming/${n}.csv`, n);
    }
    await later(h);
    // Pages of two: the first holds a.csv and b.csv.
    expect(runsOf(h, t.id)).toHaveLength(2);
    await h.runner.tick();
    await h.runner.tick();
    expect(
      runsOf(h, t.id)
        .map(r => r.event.uri)
        .sort()
    ).toEqual(
      ['a', 'b', 'c', 'd', 'e'].map(n => `project:ml101/incoming/${n}.csv`)
    );
  });

  it('refuses a folder that does not exist or that the owner cannot read', async () => {
    const h = world();
    await expect(
      h.create({
        name: 'w',
        source: { ...WATCH, prefix: 'project:ml101/nothing/' },
        action: COPY
      })
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      h.create({
        name: 'w',
        source: { ...WATCH, prefix: 'project:genomics/x/' },
        action: COPY
      })
    ).rejects.toMatchObject({ code: 'forbidden' });
  });
});

describe('actions', () => {
  it('submit: the object is the first input and the parameter; the run ends with the job', async () => {
    const h = world();
    const t = await h.create({ name: 'w', source: WATCH, action: SUBMIT });
    h.project.put('ml101/incoming/new.csv', 'a,b');
    await later(h);
    const [run] = runsOf(h, t.id);
    expect(run).toMatchObject({ state: 'running', reason: null });
    const job = h.jobs.table.get(run?.result?.jobId ?? '')?.job;
    expect(job?.trigger).toEqual({ id: t.id, run: run?.id });
    expect(job?.inputs?.map(i => i.uri)).toEqual([
      'project:ml101/incoming/new.csv'
    ]);
    expect(job?.elements[0]?.parameters).toEqual({
      trigger_uri: 'project:ml101/incoming/new.csv'
    });
    h.advance(1000);
    await h.endJob(job?.id ?? '', 'FAILED');
    await h.runner.tick();
    expect(runsOf(h, t.id)[0]).toMatchObject({
      state: 'failed',
      reason: `job ${job?.id} ended FAILED`
    });
  });

  it('copy: the object lands in the folder as the owner', async () => {
    const h = world();
    const t = await h.create({ name: 'w', source: WATCH, action: COPY });
    h.project.put('ml101/incoming/new.csv', 'a,b');
    await later(h);
    expect(runsOf(h, t.id)[0]).toMatchObject({
      state: 'done',
      result: { objects: ['archive:copies/new.csv'] }
    });
    expect(
      h.fix.buckets
        .get('hpc-archive')
        ?.objects.get('alice/copies/new.csv')
        ?.data.toString()
    ).toBe('a,b');
  });

  it('webhook: posts the run with its event', async () => {
    const h = world();
    const t = await h.create({
      name: 'w',
      source: WATCH,
      action: { kind: 'webhook', url: 'http://8.8.8.8/hook' }
    });
    h.project.put('ml101/incoming/new.csv', 'a,b');
    await later(h);
    expect(runsOf(h, t.id)[0]).toMatchObject({
      state: 'done',
      result: { status: 204 }
    });
    expect(JSON.parse(h.posted[0] ?? '{}')).toMatchObject({
      trigger: { id: t.id, name: 'w' },
      event: { kind: 'object.created', uri: 'project:ml101/incoming/new.csv' }
    });
  });

  it('roll-endpoint: refused with a clear reason while rolling is not available', async () => {
    const h = world({ roller: unavailableRoller });
    const t = await h.create({
      name: 'roll',
      source: { kind: 'job.ended', states: ['COMPLETED'] },
      action: { kind: 'roll-endpoint', endpoint: 'ep-alice', output: 0 }
    });
    const job = await h.jobs.submit(ALICE, {
      ...JOB,
      outputs: ['archive:models/{job}.bin']
    });
    h.fix.fs.put(`/home/alice/.hpc-bridge/jobs/${job.id}/data/out/0/0`, 'w');
    h.advance(1000);
    await h.endJob(job.id);
    await h.runner.tick();
    expect(runsOf(h, t.id)[0]).toMatchObject({
      state: 'failed',
      reason: 'Rolling endpoints is not available on this bridge yet'
    });
  });
});

describe('job.ended', () => {
  it("fires after the job's outputs are staged out, with them as inputs of the next job", async () => {
    const h = world();
    const first = await h.create({
      name: 'clean',
      source: WATCH,
      action: {
        kind: 'submit',
        job: { ...JOB, outputs: ['archive:clean/{job}.csv'] }
      }
    });
    const next = await h.create({
      name: 'train',
      source: { kind: 'job.ended', states: ['COMPLETED'], trigger: first.id },
      action: { ...SUBMIT, parameter: 'upstream' }
    });
    h.project.put('ml101/incoming/new.csv', 'a,b');
    await later(h);
    const jobId = runsOf(h, first.id)[0]?.result?.jobId ?? '';
    h.fix.fs.put(`/home/alice/.hpc-bridge/jobs/${jobId}/data/out/0/0`, 'clean');
    h.advance(1000);
    // The poller has stored the end; the stage-out has not run yet.
    const rec = h.jobs.table.get(jobId);
    const ended = {
      ...rec!.job,
      state: 'COMPLETED' as const,
      updatedAt: h.clock.now.toISOString(),
      elements: rec!.job.elements.map(e => ({
        ...e,
        state: 'COMPLETED' as const
      }))
    };
    h.jobs.table.update(ended);
    await h.runner.tick();
    expect(runsOf(h, next.id)).toEqual([]);

    h.advance(1000);
    await h.stageOut.onJobEnded({ ...rec!, job: ended });
    await h.runner.tick();
    const [run] = runsOf(h, next.id);
    expect(run?.event).toEqual({
      kind: 'job.ended',
      jobId,
      jobState: 'COMPLETED'
    });
    const second = h.jobs.table.get(run?.result?.jobId ?? '')?.job;
    expect(second?.inputs?.map(i => i.uri)).toEqual([
      `archive:clean/${jobId}.csv`
    ]);
    expect(second?.elements[0]?.parameters).toEqual({ upstream: jobId });
    expect(runsOf(h, first.id)[0]?.state).toBe('done');
  });

  it("ignores jobs in other states and jobs of another trigger's runs", async () => {
    const h = world();
    const t = await h.create({
      name: 'failures',
      source: { kind: 'job.ended', states: ['FAILED'], jobName: 'clean' },
      action: COPY
    });
    const ok = await h.jobs.submit(ALICE, JOB);
    const other = await h.jobs.submit(ALICE, { ...JOB, name: 'other' });
    const bad = await h.jobs.submit(ALICE, JOB);
    h.advance(1000);
    await h.endJob(ok.id, 'COMPLETED');
    await h.endJob(other.id, 'FAILED');
    await h.endJob(bad.id, 'FAILED');
    await h.runner.tick();
    expect(runsOf(h, t.id).map(r => r.event.jobId)).toEqual([bad.id]);
  });
});

describe('limits and pause', () => {
  it('holds runs beyond maxConcurrent as waiting with the reason, and starts them when a job ends', async () => {
    const h = world();
    const t = await h.create({
      name: 'w',
      source: WATCH,
      action: SUBMIT,
      limits: { maxConcurrent: 1 }
    });
    h.project.put('ml101/incoming/a.csv', 'a');
    h.project.put('ml101/incoming/b.csv', 'b');
    await later(h);
    expect(runsOf(h, t.id).map(r => [r.state, r.reason])).toEqual([
      ['running', null],
      ['waiting', '1 run going: the limit is 1 at a time']
    ]);
    h.advance(1000);
    await h.endJob(runsOf(h, t.id)[0]?.result?.jobId ?? '');
    await h.runner.tick();
    expect(runsOf(h, t.id).map(r => r.state)).toEqual(['done', 'running']);
    expect(h.cluster.submitted).toHaveLength(2);
  });

  it('holds runs beyond maxPerHour until the hour has passed, never dropping them', async () => {
    const h = world();
    const t = await h.create({
      name: 'w',
      source: WATCH,
      action: COPY,
      limits: { maxPerHour: 2 }
    });
    for (const n of ['a', 'b', 'c']) {
      h.project.put(`ml101/incoming/${n}.csv`, n);
    }
    await later(h);
    await h.runner.tick();
    expect(runsOf(h, t.id).map(r => [r.state, r.reason])).toEqual([
      ['done', null],
      ['done', null],
      ['waiting', '2 runs in the last hour: the limit is 2; next at 13:00 UTC']
    ]);
    h.advance(60 * 60_000);
    await h.runner.tick();
    expect(runsOf(h, t.id).map(r => r.state)).toEqual(['done', 'done', 'done']);
  });

  it('records the events of a paused trigger as waiting and starts them on resume', async () => {
    const h = world();
    const t = await h.create({
      name: 'w',
      source: WATCH,
      action: COPY,
      state: 'paused'
    });
    h.project.put('ml101/incoming/a.csv', 'a');
    await later(h);
    expect(runsOf(h, t.id).map(r => [r.state, r.reason])).toEqual([
      ['waiting', 'paused']
    ]);
    h.service.patch(ALICE, t.id, { state: 'active' });
    await h.runner.tick();
    expect(runsOf(h, t.id).map(r => r.state)).toEqual(['done']);
  });
});

describe('idempotency and recovery', () => {
  it('records the same event once, however often it is seen', async () => {
    const h = world();
    const t = await h.create({ name: 'w', source: WATCH, action: COPY });
    const rec = new TriggerTable(h.store).get(t.id)!;
    const scan = {
      events: [
        {
          key: 'k1',
          event: { kind: 'object.created' as const, uri: 'project:x' }
        }
      ],
      cursor: { seen: {}, pass: [], page: null, baseline: false },
      truncated: false
    };
    expect(h.runner.record(rec, scan, h.clock.now)).toBe(1);
    expect(h.runner.record(rec, scan, h.clock.now)).toBe(0);
    expect(new RunTable(h.store).list(t.id, 10)).toHaveLength(1);
  });

  it('refuses a step the run state does not take', () => {
    expect(nextRunState('waiting', 'claim')).toBe('starting');
    expect(nextRunState('starting', 'submitted')).toBe('running');
    expect(nextRunState('running', 'jobCompleted')).toBe('done');
    expect(() => nextRunState('done', 'claim')).toThrow(/cannot take/);
    expect(() => nextRunState('waiting', 'submitted')).toThrow(/cannot take/);
  });

  /** A run claimed with job id `jobId` by a bridge that then died. */
  async function claimedThenKilled(h: TriggerHarness, jobId: string) {
    const t = await h.create({
      name: 'w',
      source: WATCH,
      action: SUBMIT
    });
    const runs = new RunTable(h.store);
    const rec = new TriggerTable(h.store).get(t.id)!;
    h.runner.record(
      rec,
      {
        events: [
          {
            key: 'project:ml101/incoming/old.csv@x',
            event: {
              kind: 'object.created',
              uri: 'project:ml101/incoming/old.csv'
            }
          }
        ],
        cursor: {},
        truncated: false
      },
      h.clock.now
    );
    const [run] = runs.list(t.id, 1);
    const at = h.clock.now.toISOString();
    runs.step(run!.id, 'waiting', 'claim', {
      claimedAt: at,
      startedAt: at,
      attempts: 1,
      jobId
    });
    return { t, runs, runId: run!.id };
  }

  it('after a restart: a reserved job already recorded makes the run running, nothing is submitted', async () => {
    const h = world();
    const job = await h.jobs.submit(ALICE, JOB);
    const { runs, runId } = await claimedThenKilled(h, job.id);
    await h.runner.tick();
    expect(runs.get(runId)).toMatchObject({
      state: 'running',
      result: { jobId: job.id }
    });
    expect(h.cluster.submitted).toHaveLength(1);
  });

  it('after a restart: a job found on the cluster in the reserved working directory is adopted', async () => {
    const h = world();
    const { t, runs, runId } = await claimedThenKilled(h, 'abc123');
    h.cluster.slurmIds.push({
      workdir: '/home/alice/.hpc-bridge/jobs/abc123',
      slurmId: '555'
    });
    await h.runner.tick();
    expect(runs.get(runId)?.state).toBe('running');
    expect(h.cluster.submitted).toEqual([]);
    expect(h.jobs.table.get('abc123')?.job).toMatchObject({
      slurmId: '555',
      trigger: { id: t.id, run: runId }
    });
    expect(h.store.auditLog({ user: 'alice' }).map(a => a.action)).toContain(
      'job.adopt'
    );
  });

  it('after a restart: with no job anywhere, it submits under the reserved id', async () => {
    const h = world();
    const { runs, runId } = await claimedThenKilled(h, 'abc123');
    await h.runner.tick();
    expect(runs.get(runId)).toMatchObject({
      state: 'running',
      result: { jobId: 'abc123' }
    });
    expect(h.cluster.submitted.map(s => s.workdir)).toEqual([
      '/home/alice/.hpc-bridge/jobs/abc123'
    ]);
    await h.runner.tick();
    expect(h.cluster.submitted).toHaveLength(1);
  });

  it('a refusal fails the run with its reason', async () => {
    const h = world();
    const { runs, runId } = await claimedThenKilled(h, 'abc123');
    h.cluster.refuse.add('alice');
    await h.runner.tick();
    expect(runs.get(runId)).toMatchObject({
      state: 'failed',
      reason: 'install the key'
    });
  });

  it('a passing failure leaves the run starting and tries again a minute later', async () => {
    const h = world();
    const { runs, runId } = await claimedThenKilled(h, 'abc123');
    jest
      .spyOn(h.jobs, 'onCluster')
      .mockRejectedValueOnce(new Error('connection reset'));
    await h.runner.tick();
    expect(runs.get(runId)).toMatchObject({
      state: 'starting',
      reason: 'attempt 2 failed, trying again: connection reset'
    });
    await h.runner.tick();
    expect(h.cluster.submitted).toEqual([]);
    h.advance(61_000);
    await h.runner.tick();
    expect(runs.get(runId)?.state).toBe('running');
    expect(h.cluster.submitted).toHaveLength(1);
  });

  it('a passing failure is tried again after the configured triggers.retrySeconds', async () => {
    const h = world({ triggers: { retrySeconds: 5 } });
    const { runs, runId } = await claimedThenKilled(h, 'abc123');
    jest
      .spyOn(h.jobs, 'onCluster')
      .mockRejectedValueOnce(new Error('connection reset'));
    await h.runner.tick();
    expect(runs.get(runId)?.retryAt).toBe(
      new Date(h.clock.now.getTime() + 5_000).toISOString()
    );
    h.advance(4_000);
    await h.runner.tick();
    expect(runs.get(runId)?.state).toBe('starting');
    expect(h.cluster.submitted).toEqual([]);
    h.advance(1_000);
    await h.runner.tick();
    expect(runs.get(runId)?.state).toBe('running');
    expect(h.cluster.submitted).toHaveLength(1);
  });
});
