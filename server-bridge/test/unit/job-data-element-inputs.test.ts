/** `{element}` in a sweep's inputs: expanded per element, checked, staged and traced. */
import { MAX_SWEEP_ELEMENTS, type JobSubmit } from '../../src/contract';
import {
  ALICE,
  endJob,
  jobDataHarness,
  refusal,
  request,
  workdirOf,
  type JobDataHarness
} from './job-data-fakes';
import { bucket } from './storage-fakes';

describe('inputs with {element}', () => {
  let h: JobDataHarness;
  beforeEach(() => {
    h = jobDataHarness();
  });

  /** Puts `part-0.csv` … `part-<n-1>.csv` on the project tier, file i with i+1 lines. */
  function parts(n: number): void {
    for (let i = 0; i < n; i++) {
      bucket(h.fix, 'hpc-project').put(
        `ml101/data/part-${i}.csv`,
        'x\n'.repeat(i + 1)
      );
    }
  }

  /** Alice submits a sweep of `elements` elements reading `inputs`, with `extra`. */
  const submitSweep = (
    elements: number,
    inputs: string[],
    extra: Partial<JobSubmit> = {}
  ) =>
    h.jobs.submit(
      ALICE,
      request({
        sweep: { x: Array.from({ length: elements }, (_, i) => i) },
        inputs,
        ...extra
      })
    );

  it('expand per element, record each version and list which element reads which file', async () => {
    parts(3);
    const job = await submitSweep(3, [
      'project:ml101/data/part-{element}.csv',
      'project:ml101/data/train.csv'
    ]);
    expect(
      job.inputs?.map(i => [i.path, i.element ?? null, i.version.size])
    ).toEqual([
      ['ml101/data/part-0.csv', 0, 2],
      ['ml101/data/part-1.csv', 1, 4],
      ['ml101/data/part-2.csv', 2, 6],
      ['ml101/data/train.csv', null, 8]
    ]);
  });

  it("stage each element's file and give element i its own file as HPCB_INPUT_<n>", async () => {
    parts(2);
    const job = await submitSweep(2, [
      'project:ml101/data/train.csv',
      'project:ml101/data/part-{element}.csv'
    ]);
    const wd = workdirOf(job.id);
    const staged = (p: string) =>
      h.fix.fs.objects.get(`${wd}/${p}`)?.data.toString();
    expect(staged('data/in/1/0/part-0.csv')).toBe('x\n');
    expect(staged('data/in/1/1/part-1.csv')).toBe('x\nx\n');
    expect(staged('data/in/0/train.csv')).toBe('a,b\n1,2\n');
    const script = h.cluster.files.get(`${wd}/job.sbatch`)?.toString() ?? '';
    expect(script).toContain(`export HPCB_INPUT_0=${wd}/data/in/0/train.csv`);
    expect(script).toContain(
      [
        'case "$I" in',
        `  0) export HPCB_INPUT_1=${wd}/data/in/1/0/part-0.csv ;;`,
        `  1) export HPCB_INPUT_1=${wd}/data/in/1/1/part-1.csv ;;`,
        'esac'
      ].join('\n')
    );
    // The element's index is known before its inputs are chosen.
    expect(script.indexOf('I=${SLURM_ARRAY_TASK_ID:-0}')).toBeLessThan(
      script.indexOf('case "$I"')
    );
  });

  it("refuse the job when one element's file is missing, naming it, and submit nothing", async () => {
    parts(2);
    const e = await refusal(
      submitSweep(3, ['project:ml101/data/part-{element}.csv'])
    );
    expect([e.code, e.message]).toEqual([
      'not_found',
      'project:ml101/data/part-2.csv: no such file or folder'
    ]);
    expect(h.cluster.submitted).toEqual([]);
  });

  it('refuse an expansion past the bound with a clear message', async () => {
    const e = await refusal(
      submitSweep(MAX_SWEEP_ELEMENTS, [
        'project:ml101/a-{element}.csv',
        'project:ml101/b-{element}.csv'
      ])
    );
    expect(e.code).toBe('bad_request');
    expect(e.message).toBe(
      `The inputs expand to ${2 * MAX_SWEEP_ELEMENTS} files (2 with {element} × ${MAX_SWEEP_ELEMENTS} elements); at most ${MAX_SWEEP_ELEMENTS} are allowed`
    );
  });

  it("name only the element's own inputs in the lineage of its output", async () => {
    parts(2);
    const job = await submitSweep(
      2,
      ['project:ml101/data/part-{element}.csv', 'project:ml101/data/train.csv'],
      { outputs: ['archive:r/{job}/{element}.txt'] }
    );
    const wd = workdirOf(job.id);
    h.fix.fs.put(`${wd}/data/out/0/0`, 'zero');
    h.fix.fs.put(`${wd}/data/out/1/0`, 'one');
    await h.stageOut().onJobEnded(endJob(h, job.id));
    const chain = await h.lineage.chain(ALICE, 'archive', `r/${job.id}/1.txt`);
    expect(chain.records[0]?.job.element).toBe(1);
    expect(chain.records[0]?.inputs.map(i => i.path)).toEqual([
      'ml101/data/part-1.csv',
      'ml101/data/train.csv'
    ]);
  });

  it('still refuse {job} in an input', async () => {
    const e = await refusal(
      h.jobs.submit(ALICE, request({ inputs: ['project:ml101/{job}.csv'] }))
    );
    expect(e.message).toMatch(/only \{date\} and \{element\} expand in inputs/);
  });
});
