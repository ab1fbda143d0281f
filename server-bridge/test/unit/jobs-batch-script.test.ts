import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderBatchScript } from '../../src/adapters/ssh/batch-script';
import type { IBatchScriptOptions } from '../../src/ports/slurm';

const BASE: IBatchScriptOptions = {
  jobName: 'train-model_1.v2',
  workdir: '/home/alice/.hpc-bridge/jobs/j-0123abcd',
  partition: 'cpu',
  resources: { timeMinutes: 30, cpus: 2, memoryMB: 1500, gpus: 0 },
  arraySize: null,
  python: '/usr/bin/python3'
};

function sbatchLines(script: string): string[] {
  return script.split('\n').filter(l => l.startsWith('#SBATCH'));
}

describe('renderBatchScript', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hpc-sbatch-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the script with bash; `python` is /bin/echo so it prints its argv. */
  function run(script: string, env: Record<string, string>): string {
    const file = join(dir, 'job.sbatch');
    writeFileSync(file, script);
    execFileSync('/bin/bash', ['-n', file]);
    return execFileSync('/bin/bash', [file], {
      env: { PATH: '/usr/bin:/bin', ...env },
      encoding: 'utf8'
    });
  }

  it('renders a single job', () => {
    const script = renderBatchScript(BASE);
    expect(script.startsWith('#!/bin/bash\n')).toBe(true);
    expect(sbatchLines(script)).toEqual([
      '#SBATCH --job-name=train-model_1.v2',
      '#SBATCH --partition=cpu',
      '#SBATCH --time=30',
      '#SBATCH --nodes=1',
      '#SBATCH --ntasks=1',
      '#SBATCH --cpus-per-task=2',
      '#SBATCH --mem=1500M',
      '#SBATCH --chdir=/home/alice/.hpc-bridge/jobs/j-0123abcd',
      '#SBATCH --output=logs/0.out',
      '#SBATCH --error=logs/0.err'
    ]);
    expect(script).toContain('set -euo pipefail\n');
    expect(script).toContain(
      'exec /usr/bin/python3 runner.py "inputs/$I.ipynb" "outputs/$I.ipynb" "progress/$I.json"\n'
    );
  });

  it('renders an array with GPUs', () => {
    const script = renderBatchScript({
      ...BASE,
      partition: 'gpu',
      resources: { ...BASE.resources, gpus: 2 },
      arraySize: 3
    });
    expect(sbatchLines(script)).toEqual(
      expect.arrayContaining([
        '#SBATCH --partition=gpu',
        '#SBATCH --gres=gpu:2',
        '#SBATCH --array=0-2',
        '#SBATCH --output=logs/%a.out',
        '#SBATCH --error=logs/%a.err'
      ])
    );
    expect(script).not.toContain('logs/0.');
  });

  it('passes the array index to the runner', () => {
    const echo = { ...BASE, python: '/bin/echo', arraySize: 4 };
    expect(run(renderBatchScript(echo), { SLURM_ARRAY_TASK_ID: '3' })).toBe(
      'runner.py inputs/3.ipynb outputs/3.ipynb progress/3.json\n'
    );
    expect(run(renderBatchScript({ ...echo, arraySize: null }), {})).toBe(
      'runner.py inputs/0.ipynb outputs/0.ipynb progress/0.json\n'
    );
  });

  it.each<[string, Partial<IBatchScriptOptions>]>([
    ['job name with $()', { jobName: 'a$(touch /tmp/pwned)' }],
    ['job name with a newline', { jobName: 'a\n#SBATCH --uid=0' }],
    ['job name with a quote', { jobName: "a'b" }],
    ['job name starting with -', { jobName: '-a' }],
    ['partition with ;', { partition: 'cpu;id' }],
    ['partition with a space', { partition: 'cpu --uid=0' }],
    ['relative workdir', { workdir: 'jobs/1' }],
    ['workdir with ..', { workdir: '/home/alice/../bob' }],
    ['workdir with a space', { workdir: '/home/alice/my jobs' }],
    ['workdir with %', { workdir: '/home/alice/%u' }],
    ['workdir with `', { workdir: '/home/`id`' }],
    ['python with $', { python: '/usr/bin/$PY' }],
    ['relative python', { python: 'python3' }],
    ['zero time', { resources: { ...BASE.resources, timeMinutes: 0 } }],
    ['NaN cpus', { resources: { ...BASE.resources, cpus: NaN } }],
    ['fractional memory', { resources: { ...BASE.resources, memoryMB: 1.5 } }],
    ['negative gpus', { resources: { ...BASE.resources, gpus: -1 } }],
    ['empty array', { arraySize: 0 }],
    ['huge array', { arraySize: 1001 }]
  ])('refuses a %s', (_label, override) => {
    expect(() => renderBatchScript({ ...BASE, ...override })).toThrow(
      /invalid .* for a batch script/
    );
  });
});
