/** `/jobs/estimate` runs the submit's checks of the declared data, without side effects. */
import { JobEstimateSchema } from '../../src/contract';
import {
  ALICE,
  BOB,
  jobDataHarness,
  request,
  type JobDataHarness
} from './job-data-fakes';
import { bucket } from './storage-fakes';

async function estimate(h: JobDataHarness, req: Parameters<typeof request>[0]) {
  return JobEstimateSchema.parse(await h.jobs.estimate(ALICE, request(req)));
}

describe('the estimate of a job with declared data', () => {
  it('lists readable inputs with their sizes (per element for {element}) and the outputs', async () => {
    const h = jobDataHarness();
    bucket(h.fix, 'hpc-project').put('ml101/data/part-0.csv', 'x\n');
    bucket(h.fix, 'hpc-project').put('ml101/data/part-1.csv', 'xx\n');
    const answer = await estimate(h, {
      sweep: { x: [1, 2] },
      inputs: [
        'project:ml101/data/train.csv',
        'project:ml101/data/part-{element}.csv'
      ],
      outputs: [{ uri: 'archive:r/{job}/{element}/', estimateBytes: 5 }]
    });
    expect(answer.message).toMatch(/to start at/);
    expect(answer.data).toEqual({
      inputs: [
        expect.objectContaining({ path: 'ml101/data/train.csv', size: 8 }),
        expect.objectContaining({
          path: 'ml101/data/part-0.csv',
          element: 0,
          size: 2
        }),
        expect.objectContaining({
          path: 'ml101/data/part-1.csv',
          element: 1,
          size: 3
        })
      ],
      outputs: [
        expect.objectContaining({ path: 'r/{job}/0', element: 0 }),
        expect.objectContaining({ path: 'r/{job}/1', element: 1 })
      ],
      warnings: [],
      errors: []
    });
    expect(h.cluster.submitted).toEqual([]);
  });

  it('answers no data part for a job that declares none', async () => {
    const h = jobDataHarness();
    expect((await estimate(h, {})).data).toBeUndefined();
  });

  it('names each input the user cannot read and each output they cannot write, as the submit would', async () => {
    const h = jobDataHarness();
    const answer = await estimate(h, {
      inputs: ['project:ml101/nope.csv', 'project:ml101/data/train.csv'],
      outputs: ['project:climate/out.csv']
    });
    expect(answer.data?.errors).toEqual([
      {
        code: 'not_found',
        message: 'project:ml101/nope.csv: no such file or folder',
        uri: 'project:ml101/nope.csv'
      },
      expect.objectContaining({
        code: 'forbidden',
        message: expect.stringMatching(/read-only for you/),
        uri: 'project:climate/out.csv'
      })
    ]);
    expect(answer.data?.inputs.map(i => i.path)).toEqual([
      'ml101/data/train.csv'
    ]);
  });

  it('checks the estimates against the quota and keeps no reservation', async () => {
    const h = jobDataHarness();
    const tooMuch = await estimate(h, {
      outputs: [{ uri: 'project:ml101/model.pt', estimateBytes: 600 }]
    });
    expect(tooMuch.data?.errors.map(e => e.code)).toEqual(['quota_exceeded']);
    // Two estimates of 400 of the 500 bytes, then a submit of 400: each fits.
    for (let i = 0; i < 2; i++) {
      const fits = await estimate(h, {
        outputs: [{ uri: 'project:ml101/model.pt', estimateBytes: 400 }]
      });
      expect(fits.data?.errors).toEqual([]);
    }
    await h.jobs.submit(
      ALICE,
      request({
        outputs: [{ uri: 'project:ml101/model.pt', estimateBytes: 400 }]
      })
    );
    // Now the submit holds 400: the estimate says what a second submit would meet.
    const second = await estimate(h, {
      outputs: [{ uri: 'project:ml101/model2.pt', estimateBytes: 400 }]
    });
    expect(second.data?.errors.map(e => e.code)).toEqual(['quota_exceeded']);
  });

  it('names the data-class consequences: an error off compliant partitions, a warning on them', async () => {
    const h = jobDataHarness();
    const off = await estimate(h, {
      inputs: ['sensitive:medical/patients.csv']
    });
    expect(off.data?.errors).toEqual([
      {
        code: 'policy_refused',
        message:
          "Refused by the data-class rule 'sensitive data only on compliant partitions': tier sensitive is sensitive, partition cpu is not compliant (compliant: secure)"
      }
    ]);
    const on = await estimate(h, {
      profile: 'secure',
      inputs: ['sensitive:medical/patients.csv']
    });
    expect(on.data?.errors).toEqual([]);
    expect(on.data?.warnings).toEqual([
      'A sensitive input (sensitive) keeps the job on compliant partitions (secure); its outputs may not go to a public tier, and every access is audited'
    ]);
    const leak = await estimate(h, {
      profile: 'secure',
      inputs: ['sensitive:medical/patients.csv'],
      outputs: ['outreach:summary.csv']
    });
    expect(leak.data?.errors.map(e => e.message)).toEqual([
      "Refused by the data-class rule 'data derived from sensitive data never on public tiers': tier sensitive is sensitive among the inputs, and tier outreach is public"
    ]);
    // The estimate refuses nothing on record: no audit of a refused tier use.
    expect(
      h.store
        .auditLog({ user: 'alice', limit: 10 })
        .filter(r => r.action === 'job.uses-tier')
    ).toEqual([]);
  });

  it("hides another user's sensitive input as the submit does (not found)", async () => {
    const h = jobDataHarness();
    const answer = JobEstimateSchema.parse(
      await h.jobs.estimate(
        BOB,
        request({ inputs: ['sensitive:medical/patients.csv'] })
      )
    );
    expect(answer.data?.errors.map(e => e.code)).toEqual(['not_found']);
  });
});
