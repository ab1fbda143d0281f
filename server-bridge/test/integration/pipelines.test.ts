/**
 * Jobs with declared inputs and outputs on the real stack: a CSV on the project tier is
 * staged into a notebook job on SLURM, the file the job writes is staged out to the
 * archive tier (Swift) by the bridge, and its lineage names the CSV's version. Data-class
 * rules at submit; another user cannot follow the lineage.
 */
import { randomBytes } from 'node:crypto';
import {
  ErrorBodySchema,
  JobSchema,
  LineageSchema,
  Routes
} from '../../src/contract';
import {
  bridge,
  code,
  content,
  createUserToken,
  notebook,
  put,
  send,
  staged
} from './stack';

jest.setTimeout(180_000);

const RUN = randomBytes(4).toString('hex');
const FOLDER = `pipeline-${RUN}`;
const CSV = 'x,y\n1,2\n3,4\n5,6\n';

let alice: string;
let bob: string;

/** Counts the input's data rows and writes the count where the bridge collects it. */
const COUNT_ROWS = notebook(
  code(
    [
      'import os',
      "rows = open(os.environ['HPCB_INPUT_0']).read().strip().splitlines()[1:]",
      "with open(os.environ['HPCB_OUTPUT_0'], 'w') as out:",
      "    out.write(f'{len(rows)} rows\\n')",
      "print('counted', len(rows))"
    ].join('\n')
  )
);

beforeAll(async () => {
  [alice, bob] = await Promise.all([
    createUserToken('alice'),
    createUserToken('bob')
  ]);
});

describe('a job with declared inputs and outputs', () => {
  it('reads a project CSV, writes its result to the archive, and the result knows where it came from', async () => {
    const input = `ml101/${FOLDER}/train.csv`;
    await put(alice, 'project', input, CSV);

    const res = await send(alice, 'POST', Routes.jobs, {
      name: `count-${RUN}`,
      notebook: { path: `work/${FOLDER}/count.ipynb`, content: COUNT_ROWS },
      profile: 'cpu-small',
      inputs: [`project:${input}`],
      outputs: [`archive:${FOLDER}/{job}/rows.txt`]
    });
    expect(res.status).toBe(201);
    const submitted = JobSchema.parse(res.body);
    expect(submitted.inputs).toEqual([
      expect.objectContaining({
        tier: 'project',
        path: input,
        version: expect.objectContaining({ size: CSV.length })
      })
    ]);

    const job = await staged(alice, submitted.id);
    expect(job.state).toBe('COMPLETED');
    const resultPath = `${FOLDER}/${job.id}/rows.txt`;
    expect(job.outputs).toEqual([
      expect.objectContaining({
        tier: 'archive',
        path: resultPath,
        stageOut: 'done'
      })
    ]);
    expect(await content(alice, 'archive', resultPath)).toEqual({
      status: 200,
      text: '3 rows\n'
    });

    const lineage = await bridge(
      `${Routes.lineage}?tier=archive&path=${encodeURIComponent(resultPath)}`,
      alice
    );
    expect(lineage.status).toBe(200);
    const chain = LineageSchema.parse(lineage.body);
    expect(chain.records).toHaveLength(1);
    expect(chain.records[0]).toMatchObject({
      tier: 'archive',
      path: resultPath,
      job: {
        id: job.id,
        owner: 'alice',
        notebookPath: `work/${FOLDER}/count.ipynb`
      },
      inputs: [
        {
          tier: 'project',
          path: input,
          version: { size: CSV.length }
        }
      ]
    });

    // bob reads his own archive folder at that path: alice's result is not his to trace.
    const asBob = await bridge(
      `${Routes.lineage}?tier=archive&path=${encodeURIComponent(resultPath)}`,
      bob
    );
    expect(asBob.status).toBe(404);
  });

  it('refuses at submit what the data classes forbid, and what the user may not read', async () => {
    const secret = `medical/${FOLDER}/patients.csv`;
    await put(alice, 'sensitive', secret, CSV);
    const toPublic = await send(alice, 'POST', Routes.jobs, {
      name: `leak-${RUN}`,
      notebook: { path: `work/${FOLDER}/leak.ipynb`, content: COUNT_ROWS },
      profile: 'gpu-1',
      inputs: [`sensitive:${secret}`],
      outputs: [`outreach:${FOLDER}/{job}/rows.txt`]
    });
    expect(toPublic.status).toBe(403);
    expect(ErrorBodySchema.parse(toPublic.body).error.message).toMatch(
      /public/i
    );

    const notBobs = await send(bob, 'POST', Routes.jobs, {
      name: `peek-${RUN}`,
      notebook: { path: `work/${FOLDER}/peek.ipynb`, content: COUNT_ROWS },
      profile: 'cpu-small',
      inputs: [`sensitive:${secret}`],
      outputs: [`archive:${FOLDER}/{job}/rows.txt`]
    });
    expect(notBobs.status).toBe(404);
  });
});
