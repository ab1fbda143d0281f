/** Stage-outs that are resumed after a restart, fail for a while, or never finish. */
import type { Job } from '../../src/contract';
import type { IStoragePort } from '../../src/ports/storage';
import { JobEndedSource } from '../../src/triggers/sources/job-ended';
import {
  ALICE,
  endJob,
  jobDataHarness,
  request,
  workdirOf,
  type JobDataHarness
} from './job-data-fakes';
import { bucket } from './storage-fakes';

/** A source port whose reads of files named in `rules` wait or fail as told. */
function gated(rules: {
  hold?: (path: string) => Promise<void> | null;
  fail?: (path: string) => Error | null;
}) {
  return (port: IStoragePort): IStoragePort => ({
    ...port,
    read: async (p, range) => {
      const error = rules.fail?.(p) ?? null;
      if (error !== null) {
        throw error;
      }
      await rules.hold?.(p);
      return port.read(p, range);
    }
  });
}

async function folderJob(h: JobDataHarness, files: Record<string, string>) {
  const job = await h.jobs.submit(
    ALICE,
    request({ outputs: ['archive:results/{job}/'] })
  );
  for (const [name, data] of Object.entries(files)) {
    h.fix.fs.put(`${workdirOf(job.id)}/data/out/0/0/${name}`, data);
  }
  return job;
}

const until = async (ok: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !ok(); i++) {
    await new Promise(r => setTimeout(r, 5));
  }
  expect(ok()).toBe(true);
};

describe('a stage-out resumed after the bridge stopped half-way', () => {
  let release: (() => void) | null = null;
  let holding = true;
  const h = jobDataHarness({
    workdirPort: gated({
      hold: p =>
        holding && p.endsWith('/c.txt')
          ? new Promise<void>(r => (release = r))
          : null
    })
  });
  const archive = () => bucket(h.fix, 'hpc-archive');

  it('copies only what is missing or differs, and then counts the output as done', async () => {
    const job = await folderJob(h, {
      'a.txt': 'aaaa',
      'b.txt': 'bbbb',
      'c.txt': 'cccc'
    });
    const rec = endJob(h, job.id);
    // The first stage-out copies a and b, then the bridge "dies" while c is read.
    const first = h
      .stageOut({
        limits: { attempts: 1, backoffSeconds: 0, deadlineMinutes: 60 }
      })
      .onJobEnded(rec);
    await until(() => release !== null && archive().objects.size === 2);
    expect(h.jobs.table.get(job.id)?.job.outputs?.[0]?.stageOut).toBe(
      'pending'
    );
    // Meanwhile b was changed on the tier (another size): it is copied again.
    archive().put(`alice/results/${job.id}/b.txt`, 'changed!');
    holding = false;
    const writesBefore = archive().writes;

    expect(await h.stageOut().resume()).toBe(1);

    expect(archive().writes - writesBefore).toBe(2);
    const data = (name: string) =>
      archive().objects.get(`alice/results/${job.id}/${name}`)?.data.toString();
    expect([data('a.txt'), data('b.txt'), data('c.txt')]).toEqual([
      'aaaa',
      'bbbb',
      'cccc'
    ]);
    const after = h.jobs.table.get(job.id)?.job;
    expect(after?.outputs?.[0]?.stageOut).toBe('done');
    // Every file of the folder has its lineage, the kept one too.
    const kept = await h.lineage.chain(
      ALICE,
      'archive',
      `results/${job.id}/a.txt`
    );
    expect(kept.records[0]?.job.id).toBe(job.id);
    release?.();
    await first;
  });
});

describe('a stage-out that cannot finish', () => {
  const limits = { attempts: 3, backoffSeconds: 2, deadlineMinutes: 60 };

  it('retries a failing copy with a doubling pause and then succeeds', async () => {
    let failures = 2;
    const h = jobDataHarness({
      workdirPort: gated({
        fail: () => (failures-- > 0 ? new Error('connection reset') : null)
      })
    });
    const job = await folderJob(h, { 'a.txt': 'aaaa' });
    const pauses: number[] = [];
    const done = await h
      .stageOut({ limits, sleep: async ms => void pauses.push(ms) })
      .onJobEnded(endJob(h, job.id));
    expect(done.outputs?.[0]?.stageOut).toBe('done');
    expect(pauses).toEqual([2000, 4000]);
  });

  it('fails the output after its attempts, with the reason, audited, and announces the job', async () => {
    const h = jobDataHarness({
      workdirPort: gated({ fail: () => new Error('connection reset') })
    });
    const job = await folderJob(h, { 'a.txt': 'aaaa' });
    const announced: Job[] = [];
    h.events.subscribe(j => announced.push(j));
    const ended = await h
      .stageOut({ limits, sleep: async () => undefined })
      .onJobEnded(endJob(h, job.id));
    expect(ended.outputs?.[0]).toMatchObject({
      stageOut: 'failed',
      error: 'connection reset (after 3 attempts)'
    });
    expect(announced.at(-1)?.outputs?.[0]?.stageOut).toBe('failed');
    expect(h.store.auditLog({ user: 'alice', limit: 1 })[0]).toMatchObject({
      action: 'job.stage-out-failed',
      target: job.id,
      details: {
        tier: 'archive',
        path: `results/${job.id}`,
        element: 0,
        reason: 'connection reset (after 3 attempts)'
      }
    });
  });

  it('does not retry what another attempt cannot mend (the job wrote nothing)', async () => {
    const h = jobDataHarness();
    const job = await folderJob(h, {});
    const pauses: number[] = [];
    const ended = await h
      .stageOut({ limits, sleep: async ms => void pauses.push(ms) })
      .onJobEnded(endJob(h, job.id));
    expect(ended.outputs?.[0]?.error).toMatch(/wrote nothing/);
    expect(pauses).toEqual([]);
  });

  it('ends a copy that hangs at the deadline, so job.ended triggers fire with the failed output', async () => {
    const h = jobDataHarness({
      workdirPort: gated({ hold: () => new Promise<void>(() => undefined) })
    });
    const job = await folderJob(h, { 'a.txt': 'aaaa' });
    const source = new JobEndedSource(h.jobs.table);
    const cursor = await source.baseline(
      ALICE,
      { kind: 'job.ended', states: ['COMPLETED'] },
      new Date(Date.now() - 1000)
    );
    const ended = await h
      .stageOut({
        limits: { attempts: 2, backoffSeconds: 0, deadlineMinutes: 0.002 }
      })
      .onJobEnded(endJob(h, job.id));
    expect(ended.outputs?.[0]).toMatchObject({
      stageOut: 'failed',
      error: 'not finished within the stage-out deadline (0.002 minutes)'
    });
    const scan = await source.scan({
      source: { kind: 'job.ended', states: ['COMPLETED'] },
      owner: ALICE,
      cursor,
      now: new Date()
    });
    expect(scan.events.map(e => e.key)).toEqual([`job:${job.id}`]);
    expect(await h.stageOut().resume()).toBe(0);
  });
});
