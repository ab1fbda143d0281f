import {
  type Job,
  type JobCall,
  type Lineage,
  LineageSchema
} from '@hpc-bridge/server/contract';
import type { ILineageApi } from '../lineage/api';
import { LineageChain, LineageModel } from '../lineage/LineageModel';
import { identityTrans } from './helpers';
import { parsedJob } from './jobs-fakes';

const SHA = 'a'.repeat(64);

/** clean.csv made by job 42 from train.csv (made by job 41 from raw.csv) and secret.csv (withheld). */
const LINEAGE: Lineage = LineageSchema.parse({
  tier: 'archive',
  path: 'results/42/clean.csv',
  records: [
    {
      tier: 'archive',
      path: 'results/42/clean.csv',
      version: {
        size: 2048,
        lastModified: '2025-03-01T10:05:00.000Z',
        etag: 'e42'
      },
      job: {
        id: '42',
        owner: 'alice',
        name: 'clean',
        element: 0,
        notebookPath: 'pipelines/clean.ipynb',
        notebookSha256: SHA,
        parameters: {
          trigger_uri: 'project:ml101/incoming/train.csv',
          alpha: 0.5
        }
      },
      inputs: [
        {
          tier: 'project',
          path: 'ml101/incoming/train.csv',
          version: { size: 1024, lastModified: null, etag: 'e1' }
        },
        {
          tier: 'sensitive',
          path: 'medical/secret.csv',
          version: { size: 10, lastModified: null }
        }
      ],
      createdAt: '2025-03-01T10:05:00.000Z'
    },
    {
      tier: 'project',
      path: 'ml101/incoming/train.csv',
      version: { size: 1024, lastModified: null, etag: 'e1' },
      job: {
        id: '41',
        owner: 'alice',
        name: 'split',
        element: 0,
        notebookPath: 'split.ipynb',
        notebookSha256: SHA,
        parameters: {}
      },
      inputs: [
        {
          tier: 'scratch',
          path: 'raw.csv',
          version: { size: 4096, lastModified: null }
        }
      ],
      createdAt: '2025-03-01T09:00:00.000Z'
    }
  ],
  withheld: [{ tier: 'sensitive', path: 'medical/secret.csv' }],
  truncated: false
});

class FakeLineageApi implements ILineageApi {
  asked: string[] = [];
  async lineage(tier: string, path: string): Promise<Lineage> {
    this.asked.push(`lineage ${tier}:${path}`);
    return LINEAGE;
  }
  async resubmit(jobId: string): Promise<Job> {
    this.asked.push(`resubmit ${jobId}`);
    if (jobId === 'gone') {
      throw new Error('No job gone');
    }
    return parsedJob({ id: '43', resubmittedFrom: jobId });
  }
}

describe('LineageChain', () => {
  const trans = identityTrans();

  it('follows the inputs a job made, marks raw ones and names withheld ones', () => {
    const steps = LineageChain.steps(LINEAGE);
    expect(steps.map(step => step.uri)).toEqual([
      'archive:results/42/clean.csv',
      'project:ml101/incoming/train.csv'
    ]);
    expect(steps[0].inputs.map(i => [i.uri, i.kind])).toEqual([
      ['project:ml101/incoming/train.csv', 'made'],
      ['sensitive:medical/secret.csv', 'withheld']
    ]);
    expect(steps[1].inputs.map(i => [i.uri, i.kind])).toEqual([
      ['scratch:raw.csv', 'raw']
    ]);
  });

  it('says what made an object: notebook, parameters and input versions', () => {
    const record = LINEAGE.records[0];
    expect(LineageChain.jobLabel(record)).toBe(
      'clean.ipynb, trigger_uri="project:ml101/incoming/train.csv", alpha=0.5'
    );
    expect(LineageChain.version(record.inputs[0].version, trans)).toBe(
      '1.0 KiB, etag e1'
    );
    expect(LineageChain.version(record.version, trans)).toMatch(
      /^2\.0 KiB, modified .+, etag e42$/
    );
    expect(LineageChain.version(null, trans)).toBe('');
  });
});

describe('LineageChain.calls', () => {
  const trans = identityTrans();
  const call: JobCall = {
    endpointId: 'e1',
    endpoint: 'llm-demo',
    model: 'tiny-random',
    requests: 3,
    promptTokens: 400,
    completionTokens: 12,
    firstAt: '2025-03-01T10:00:00.000Z',
    lastAt: '2025-03-01T10:03:00.000Z'
  };
  const withCalls = (calls: JobCall[] | undefined) =>
    LineageSchema.parse({
      ...LINEAGE,
      records: [
        {
          ...LINEAGE.records[0],
          job: {
            ...LINEAGE.records[0].job,
            ...(calls === undefined ? {} : { calls })
          }
        }
      ]
    }).records[0];

  it('says which endpoints the job called, how often and how many tokens', () => {
    expect(
      LineageChain.calls(
        withCalls([
          call,
          { ...call, endpoint: 'other', model: null, requests: 1 },
          {
            ...call,
            endpoint: 'unused',
            requests: 0,
            firstAt: null,
            lastAt: null
          }
        ]),
        trans
      )
    ).toEqual([
      'called endpoint llm-demo (tiny-random) 3 times, 412 tokens',
      'called endpoint other once, 412 tokens',
      'declared endpoint unused (tiny-random), never called it'
    ]);
    expect(LineageChain.calls(withCalls(undefined), trans)).toEqual([]);
  });
});

describe('LineageModel', () => {
  it('loads the lineage of its object and re-runs the job that made it', async () => {
    const api = new FakeLineageApi();
    const model = new LineageModel({
      api,
      tier: 'archive',
      path: 'results/42/clean.csv'
    });
    await model.load();
    expect(model.steps[0].record.job.id).toBe('42');
    const rerun = await model.resubmit('42');
    expect(rerun?.id).toBe('43');
    expect(model.resubmitted?.resubmittedFrom).toBe('42');
    expect(api.asked).toEqual([
      'lineage archive:results/42/clean.csv',
      'resubmit 42'
    ]);
  });

  it('keeps the refusal of a re-run to show it', async () => {
    const model = new LineageModel({
      api: new FakeLineageApi(),
      tier: 'archive',
      path: 'x'
    });
    expect(await model.resubmit('gone')).toBeNull();
    expect(model.resubmitError?.message).toBe('No job gone');
    expect(model.resubmitting).toBe(false);
  });
});
