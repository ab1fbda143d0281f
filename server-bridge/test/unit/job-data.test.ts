/** Declared job inputs and outputs: URIs, submit checks, stage-in, stage-out and lineage. */
import {
  JobSubmitSchema,
  LineageSchema,
  parseTierUri,
  TierUriSchema
} from '../../src/contract';
import { LineageService } from '../../src/lineage/service';
import { expandPlaceholders } from '../../src/lineage/uris';
import {
  ALICE,
  BOB,
  jobDataWorld,
  refusal,
  request,
  seedTiers
} from './job-data-fakes';
import { bucket } from './storage-fakes';

/** The job-data world with a CSV on the project tier, one on the sensitive tier and a scratch file. */
function harness() {
  const world = jobDataWorld();
  seedTiers(world);
  world.fix.fs.put('/scratch/u-alice/big.bin', 'scratch bytes');
  return {
    ...world,
    lineage: new LineageService(world.lineageTable, world.fix.service)
  };
}

describe('tier URIs', () => {
  it('take a URI apart into tier, path and whether it names a folder', () => {
    expect(parseTierUri('project:ml101/data/train.csv')).toEqual({
      tier: 'project',
      path: 'ml101/data/train.csv',
      folder: false
    });
    expect(parseTierUri('archive:results/{job}/')).toEqual({
      tier: 'archive',
      path: 'results/{job}',
      folder: true
    });
  });

  it.each([
    'no-colon',
    'Project:x',
    'project:',
    'project:/abs',
    'project:a/../b',
    'project:a//b',
    'project:{user}/x'
  ])('refuse %s', uri => {
    expect(TierUriSchema.safeParse(uri).success).toBe(false);
  });

  it('expand {job}, {element} and {date}, and refuse a placeholder without a value', () => {
    expect(
      expandPlaceholders('u', 'r/{job}/{element}/{date}', {
        job: 'abc',
        element: '2',
        date: '2026-01-10'
      })
    ).toBe('r/abc/2/2026-01-10');
    expect(() =>
      expandPlaceholders('project:x/{job}', 'x/{job}', { date: 'd' })
    ).toThrow(/\{job\} cannot be used here/);
  });

  it('let the submit schema take plain outputs and outputs with an estimate', () => {
    const parsed = JobSubmitSchema.safeParse(
      request({
        inputs: ['project:ml101/data/train.csv'],
        outputs: [
          'archive:results/{job}/',
          { uri: 'project:ml101/model.pt', estimateBytes: 100 }
        ]
      })
    );
    expect(parsed.success).toBe(true);
  });
});

describe('submit checks', () => {
  it('accept readable inputs and writable outputs, and list them with versions on the job', async () => {
    const h = harness();
    const job = await h.jobs.submit(
      ALICE,
      request({
        inputs: ['project:ml101/data/train.csv'],
        outputs: [{ uri: 'archive:results/{job}/', estimateBytes: 10 }]
      })
    );
    expect(job.inputs).toEqual([
      {
        uri: 'project:ml101/data/train.csv',
        tier: 'project',
        path: 'ml101/data/train.csv',
        folder: false,
        version: { size: 8, lastModified: expect.any(String) }
      }
    ]);
    expect(job.outputs).toEqual([
      expect.objectContaining({
        tier: 'archive',
        path: `results/${job.id}`,
        folder: true,
        element: 0,
        estimateBytes: 10,
        stageOut: 'pending'
      })
    ]);
  });

  it('refuse an input that does not exist (404) or that the user cannot read (404)', async () => {
    const h = harness();
    const missing = await refusal(
      h.jobs.submit(ALICE, request({ inputs: ['project:ml101/nope.csv'] }))
    );
    expect([missing.code, missing.message]).toEqual([
      'not_found',
      'project:ml101/nope.csv: no such file or folder'
    ]);
    const hidden = await refusal(
      h.jobs.submit(
        BOB,
        request({ inputs: ['sensitive:medical/patients.csv'] })
      )
    );
    expect(hidden.code).toBe('not_found');
    expect(h.cluster.submitted).toEqual([]);
  });

  it('refuse an output on a tier the user may only read (403), submitting nothing', async () => {
    const h = harness();
    const e = await refusal(
      h.jobs.submit(ALICE, request({ outputs: ['project:climate/out.csv'] }))
    );
    expect(e.code).toBe('forbidden');
    expect(e.message).toMatch(/read-only for you/);
    expect(h.cluster.submitted).toEqual([]);
  });

  it('refuse an output estimate the quota cannot hold (413), and reserve the one it can', async () => {
    const h = harness();
    const e = await refusal(
      h.jobs.submit(
        ALICE,
        request({
          outputs: [{ uri: 'project:ml101/model.pt', estimateBytes: 600 }]
        })
      )
    );
    expect(e.code).toBe('quota_exceeded');
    await h.jobs.submit(
      ALICE,
      request({
        outputs: [{ uri: 'project:ml101/model.pt', estimateBytes: 400 }]
      })
    );
    // 400 of the 500 bytes are held for the running job: a second such job does not fit.
    const second = await refusal(
      h.jobs.submit(
        ALICE,
        request({
          outputs: [{ uri: 'project:ml101/model2.pt', estimateBytes: 400 }]
        })
      )
    );
    expect(second.code).toBe('quota_exceeded');
  });

  it('keep a job with a sensitive input off non-compliant partitions', async () => {
    const h = harness();
    const e = await refusal(
      h.jobs.submit(
        ALICE,
        request({ inputs: ['sensitive:medical/patients.csv'] })
      )
    );
    expect([e.code, e.message]).toEqual([
      'policy_refused',
      "Refused by the data-class rule 'sensitive data only on compliant partitions': tier sensitive is sensitive, partition cpu is not compliant (compliant: secure)"
    ]);
    const job = await h.jobs.submit(
      ALICE,
      request({
        profile: 'secure',
        inputs: ['sensitive:medical/patients.csv']
      })
    );
    expect(job.partition).toBe('secure');
  });

  it('refuse outputs on a public tier when an input is sensitive', async () => {
    const h = harness();
    const e = await refusal(
      h.jobs.submit(
        ALICE,
        request({
          profile: 'secure',
          inputs: ['sensitive:medical/patients.csv'],
          outputs: ['outreach:summary.csv']
        })
      )
    );
    expect([e.code, e.message]).toEqual([
      'policy_refused',
      "Refused by the data-class rule 'data derived from sensitive data never on public tiers': tier sensitive is sensitive among the inputs, and tier outreach is public"
    ]);
    expect(h.store.auditLog({ user: 'alice', limit: 1 })[0]).toMatchObject({
      action: 'job.uses-tier',
      target: 'sensitive',
      details: {
        outcome: 'refused',
        inputs: ['sensitive:medical/patients.csv'],
        outputs: ['outreach:summary.csv'],
        reason: e.message
      }
    });
  });

  it('keep a job that writes to a sensitive tier off non-compliant partitions', async () => {
    const h = harness();
    const e = await refusal(
      h.jobs.submit(
        ALICE,
        request({ outputs: ['sensitive:medical/{job}/summary.csv'] })
      )
    );
    expect([e.code, e.message]).toEqual([
      'policy_refused',
      "Refused by the data-class rule 'sensitive data only on compliant partitions': tier sensitive is sensitive, partition cpu is not compliant (compliant: secure)"
    ]);
    expect(h.store.auditLog({ user: 'alice', limit: 1 })[0]).toMatchObject({
      action: 'job.uses-tier',
      target: 'sensitive',
      details: { outcome: 'refused', partition: 'cpu' }
    });
  });

  it('need {element} in the outputs of a sweep', async () => {
    const h = harness();
    const e = await refusal(
      h.jobs.submit(
        ALICE,
        request({ sweep: { x: [1, 2] }, outputs: ['archive:r/{job}/'] })
      )
    );
    expect(e.message).toMatch(/add \{element\} to the path/);
  });
});

describe('stage-in', () => {
  it('copies S3 inputs into the working directory, passes scratch paths, and tells the job where', async () => {
    const h = harness();
    const job = await h.jobs.submit(
      ALICE,
      request({
        inputs: ['project:ml101/data/train.csv', 'scratch:big.bin'],
        outputs: ['archive:results/{job}/', 'project:ml101/{job}.txt']
      })
    );
    const wd = `/home/alice/.hpc-bridge/jobs/${job.id}`;
    expect(
      h.fix.fs.objects.get(`${wd}/data/in/0/train.csv`)?.data.toString()
    ).toBe('a,b\n1,2\n');
    expect(
      [...h.fix.fs.objects.keys()].some(k => k.includes('/data/in/1'))
    ).toBe(false);
    const script = h.cluster.files.get(`${wd}/job.sbatch`)?.toString() ?? '';
    expect(script).toContain(`export HPCB_INPUT_0=${wd}/data/in/0/train.csv`);
    expect(script).toContain('export HPCB_INPUT_1=/scratch/u-alice/big.bin');
    expect(script).toContain(`export HPCB_OUTPUT_DIR=${wd}/data/out/"$I"`);
    expect(script).toContain('export HPCB_OUTPUT_0="$HPCB_OUTPUT_DIR"/0');
    expect(script).toContain('mkdir -p "$HPCB_OUTPUT_0"');
    expect(script).toContain('export HPCB_OUTPUT_1="$HPCB_OUTPUT_DIR"/1');
    expect(script).not.toMatch(/SECRET|AWS_|accessKey/i);
    // The outputs' folder is made before the runner starts.
    expect(script.indexOf('HPCB_OUTPUT_DIR=')).toBeLessThan(
      script.indexOf('runner.py')
    );
  });
});

describe('stage-out and lineage', () => {
  async function finishedJob(h: ReturnType<typeof harness>) {
    const job = await h.jobs.submit(
      ALICE,
      request({
        parameters: { x: 3 },
        inputs: ['project:ml101/data/train.csv'],
        outputs: ['archive:results/{job}/', 'project:ml101/{job}.txt']
      })
    );
    const wd = `/home/alice/.hpc-bridge/jobs/${job.id}`;
    h.fix.fs.put(`${wd}/data/out/0/0/metrics.json`, '{"loss":1}');
    h.fix.fs.put(`${wd}/data/out/0/1`, 'model');
    await h.endJob(job.id);
    return h.jobs.table.get(job.id)!.job;
  }

  it('stages out at start a job that ended while no stage-out ran, once', async () => {
    const h = harness();
    const job = await h.jobs.submit(
      ALICE,
      request({
        inputs: ['project:ml101/data/train.csv'],
        outputs: ['project:ml101/{job}.txt']
      })
    );
    h.fix.fs.put(`/home/alice/.hpc-bridge/jobs/${job.id}/data/out/0/0`, 'late');
    // Ended while no stage-out ran.
    h.markEnded(job.id);

    expect(await h.stageOut.resume()).toBe(1);
    expect(h.jobs.table.get(job.id)!.job.outputs?.[0]?.stageOut).toBe('done');
    expect(
      bucket(h.fix, 'hpc-project')
        .objects.get(`ml101/${job.id}.txt`)
        ?.data.toString()
    ).toBe('late');
    expect(await h.stageOut.resume()).toBe(0);
  });

  it('copies each output to its tier and records what made it', async () => {
    const h = harness();
    const job = await finishedJob(h);
    expect(
      bucket(h.fix, 'hpc-archive')
        .objects.get(`alice/results/${job.id}/metrics.json`)
        ?.data.toString()
    ).toBe('{"loss":1}');
    expect(
      bucket(h.fix, 'hpc-project')
        .objects.get(`ml101/${job.id}.txt`)
        ?.data.toString()
    ).toBe('model');
    expect(job.outputs?.map(o => o.stageOut)).toEqual(['done', 'done']);
    const records = h.lineageTable.byJob(job.id).map(r => r.record);
    expect(records.map(r => `${r.tier}:${r.path}`).sort()).toEqual(
      [
        `archive:results/${job.id}/metrics.json`,
        `project:ml101/${job.id}.txt`
      ].sort()
    );
    expect(records[0]).toMatchObject({
      job: {
        id: job.id,
        owner: 'alice',
        element: 0,
        notebookPath: 'train.ipynb',
        notebookSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        parameters: { x: 3 }
      },
      inputs: [
        {
          tier: 'project',
          path: 'ml101/data/train.csv',
          version: { size: 8 }
        }
      ]
    });
  });

  it('records a missing output as failed on the job and keeps the job', async () => {
    const h = harness();
    const job = await h.jobs.submit(
      ALICE,
      request({ outputs: ['archive:results/{job}/'] })
    );
    await h.endJob(job.id);
    const after = h.jobs.table.get(job.id)!.job;
    expect(after.state).toBe('COMPLETED');
    expect(after.outputs?.[0]).toMatchObject({
      stageOut: 'failed',
      error: expect.stringMatching(/wrote nothing/)
    });
  });

  it('skips the outputs of an element that did not complete', async () => {
    const h = harness();
    const job = await h.jobs.submit(
      ALICE,
      request({ outputs: ['archive:results/{job}/'] })
    );
    await h.endJob(job.id, 'FAILED');
    expect(h.jobs.table.get(job.id)!.job.outputs?.[0]?.stageOut).toBe(
      'skipped'
    );
  });

  it('answers the chain back to the raw inputs', async () => {
    const h = harness();
    const first = await finishedJob(h);
    // A second job reads the first one's output.
    const second = await h.jobs.submit(
      ALICE,
      request({
        inputs: [`project:ml101/${first.id}.txt`],
        outputs: ['archive:final/{job}.txt']
      })
    );
    const wd = `/home/alice/.hpc-bridge/jobs/${second.id}`;
    h.fix.fs.put(`${wd}/data/out/0/0`, 'final');
    await h.endJob(second.id);
    const answer = LineageSchema.parse(
      await h.lineage.chain(ALICE, 'archive', `final/${second.id}.txt`)
    );
    expect(answer.records.map(r => r.job.id)).toEqual([second.id, first.id]);
    expect(answer.records[1]?.inputs[0]?.path).toBe('ml101/data/train.csv');
    expect(answer.truncated).toBe(false);
    // Bob reads the project folder, so he may follow the chain from there…
    const fromProject = await h.lineage.chain(
      BOB,
      'project',
      `ml101/${first.id}.txt`
    );
    expect(fromProject.records.map(r => r.job.id)).toEqual([first.id]);
    // …but alice's archive is hers: the same path is not his object.
    const e = await refusal(
      h.lineage.chain(BOB, 'archive', `final/${second.id}.txt`)
    );
    expect(e.code).toBe('not_found');
  });
});
