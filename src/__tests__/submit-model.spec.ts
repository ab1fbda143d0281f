/**
 * @jest-environment node
 */
import {
  JobSchema,
  type JobSubmit,
  type Profile,
  Routes
} from '@hpc-bridge/server/contract';
import { SubmitModel } from '../jobs/SubmitModel';
import { BridgeRequestError } from '../transport/errors';
import { identityTrans, job, waitFor } from './helpers';
import { asClient, FakeClient } from './jobs-fakes';

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

  it('sends the declared inputs and outputs, an estimate in bytes, blank rows left out', async () => {
    const { model } = await create();
    model.setData({
      inputs: ['project:ml101/data/train.csv', '  '],
      outputs: [
        { uri: 'archive:results/{job}/', estimateMiB: '1.5' },
        { uri: 'scratch:out/{job}.csv', estimateMiB: '' }
      ]
    });
    expect(model.errors).toEqual({});
    expect(model.request()).toMatchObject({
      inputs: ['project:ml101/data/train.csv'],
      outputs: [
        { uri: 'archive:results/{job}/', estimateBytes: 1572864 },
        'scratch:out/{job}.csv'
      ]
    });
  });

  it('names the data row that is not a tier URI, and {job} in an input', async () => {
    const { model } = await create();
    model.setData({
      inputs: ['train.csv', 'scratch:runs/{job}/a.csv'],
      outputs: [{ uri: 'archive:../x', estimateMiB: '-1' }]
    });
    expect(Object.keys(model.errors).sort()).toEqual([
      'input:0',
      'input:1',
      'output:0'
    ]);
    expect(model.errors['input:1']).toMatch(/only \{date\}/);
    expect(model.request()).toBeNull();
    model.setData({
      inputs: [],
      outputs: [{ uri: 'archive:results/', estimateMiB: 'lots' }]
    });
    expect(Object.keys(model.errors)).toEqual(['estimate:0']);
  });

  it("flags the profiles of a cluster the bridge lists as down, with the bridge's reason", async () => {
    const fake = new FakeClient();
    const second: Profile = {
      ...PROFILE,
      name: 'cpu-demo2',
      cluster: 'demo2',
      partition: 'batch2'
    };
    fake.profilesAnswer = { profiles: [PROFILE, second] };
    const reason =
      'slurmctld of demo2 not reachable: sinfo --json failed: Unable to contact slurm controller';
    fake.clustersAnswer = {
      clusters: [
        {
          name: 'demo',
          title: 'Demo',
          status: 'ok',
          partitions: [],
          updatedAt: '2026-12-07T10:00:00.000Z'
        },
        {
          name: 'demo2',
          title: 'Second demo cluster',
          status: 'down',
          error: reason,
          partitions: [],
          updatedAt: '2026-12-07T10:00:00.000Z'
        }
      ]
    };
    const model = new SubmitModel({
      client: asClient(fake),
      trans: identityTrans(),
      notebook: NOTEBOOK,
      submit: jest.fn(),
      estimateDelay: 1
    });
    await waitFor(() => model.clusters.down(second) !== null);
    expect(model.profile?.name).toBe('cpu-small');
    expect(model.clusters.down(model.profile)).toBeNull();
    expect(model.clusters.down(PROFILE)).toBeNull();
    model.setProfile('cpu-demo2');
    expect(model.clusters.down(model.profile)).toMatchObject({
      name: 'demo2',
      title: 'Second demo cluster',
      error: reason
    });
    model.dispose();
  });

  it('flags no cluster when the clusters cannot be listed', async () => {
    const fake = new FakeClient();
    fake.profilesAnswer = { profiles: [PROFILE] };
    fake.clusters = () => Promise.reject(new Error('502 Bad Gateway'));
    const model = new SubmitModel({
      client: asClient(fake),
      trans: identityTrans(),
      notebook: NOTEBOOK,
      submit: jest.fn(),
      estimateDelay: 1
    });
    await model.clusters.load();
    await waitFor(() => model.profile !== null);
    expect(model.clusters.down(model.profile)).toBeNull();
    model.dispose();
  });

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
