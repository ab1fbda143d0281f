/**
 * Runs the real runner (Debian's python3 + nbclient + ipykernel) on small
 * notebooks in a temp dir, the way job.sbatch starts it.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NotebookContentSchema,
  ProgressSchema,
  type NotebookContent
} from '../../src/contract';
import { prepareNotebook } from '../../src/jobs/notebook';

const RUNNER = join(__dirname, '..', '..', 'runner', 'hpc_bridge_runner.py');
const FIXTURES = join(__dirname, '..', 'fixtures', 'notebooks');

jest.setTimeout(60000);

function fixture(name: string): NotebookContent {
  return NotebookContentSchema.parse(
    JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'))
  );
}

function textOf(value: unknown): string {
  return Array.isArray(value) ? value.join('') : String(value);
}

describe('hpc_bridge_runner.py', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hpc-runner-'));
    for (const sub of ['inputs', 'outputs', 'progress']) {
      mkdirSync(join(dir, sub));
    }
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function runJob(
    nb: NotebookContent,
    env: Record<string, string>
  ): SpawnSyncReturns<string> {
    writeFileSync(join(dir, 'inputs', '1.ipynb'), JSON.stringify(nb));
    return spawnSync(
      '/usr/bin/python3',
      [RUNNER, 'inputs/1.ipynb', 'outputs/1.ipynb', 'progress/1.json'],
      {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH: '/usr/bin:/bin', HOME: dir, ...env }
      }
    );
  }

  function output(): NotebookContent {
    return NotebookContentSchema.parse(
      JSON.parse(readFileSync(join(dir, 'outputs', '1.ipynb'), 'utf8'))
    );
  }

  /** The progress file as written, error included. */
  function progressFile(): unknown {
    return JSON.parse(readFileSync(join(dir, 'progress', '1.json'), 'utf8'));
  }

  function progress(): unknown {
    return ProgressSchema.parse(
      JSON.parse(readFileSync(join(dir, 'progress', '1.json'), 'utf8'))
    );
  }

  it('runs a parameterised notebook, saving outputs and progress', () => {
    const name = `it's "$(touch pwned)"\n\\`;
    const nb = prepareNotebook(fixture('params.ipynb'), {
      parameters: { alpha: 0.25, name }
    });

    const result = runJob(nb, {
      SLURM_JOB_ID: '4242',
      SLURM_ARRAY_JOB_ID: '4240',
      SLURM_ARRAY_TASK_ID: '1'
    });

    expect(result.stderr).not.toMatch(/Traceback|Error/);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('[hpc-bridge] cell 1/5 done\n');
    expect(result.stdout).toContain('[hpc-bridge] cell 5/5 done\n');
    expect(progress()).toEqual({ cell: 5, of: 5 });

    const out = output();
    expect(out.metadata.hpc_bridge).toEqual({
      job: '4242',
      array_job: '4240',
      array_index: 1
    });
    expect(out.metadata.kernelspec).toEqual(nb.metadata.kernelspec);
    const compute = out.cells[4];
    const printed = textOf(
      (compute.outputs as { text: unknown }[])[0].text
    ).trim();
    expect(JSON.parse(printed)).toEqual({ alpha: 0.25, name, steps: 3 });
    // Printed output is echoed to the job's stdout too.
    expect(result.stdout).toContain(printed);
    const [result6] = out.cells[5].outputs as {
      output_type: string;
      data: Record<string, unknown>;
    }[];
    expect(result6.output_type).toBe('execute_result');
    expect(textOf(result6.data['text/plain'])).toBe('6');
    expect(out.cells[5].execution_count).toBe(5);
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
    // Atomic writes leave no temporary files behind.
    expect(readdirSync(join(dir, 'outputs'))).toEqual(['1.ipynb']);
    expect(readdirSync(join(dir, 'progress'))).toEqual(['1.json']);
  });

  it('stops at a failing cell with its traceback saved and exit code 1', () => {
    const result = runJob(fixture('failing.ipynb'), {});

    expect(result.status).toBe(1);
    expect(result.stdout).toContain('before\n[hpc-bridge] cell 1/3 done\n');
    expect(result.stdout).not.toContain('cell 2/3 done');
    expect(result.stderr).toContain('[hpc-bridge] cell 2/3 failed');
    expect(result.stderr).toContain('ValueError: boom from cell 2');
    expect(result.stderr).not.toContain('\x1b[');
    expect(progressFile()).toEqual({
      cell: 1,
      of: 3,
      error: { ename: 'ValueError', evalue: 'boom from cell 2', cell: 1 }
    });

    const out = output();
    expect(out.metadata.hpc_bridge).toEqual({ job: null, array_index: 0 });
    expect(out.cells[1].outputs).toEqual([
      expect.objectContaining({
        output_type: 'error',
        ename: 'ValueError',
        evalue: 'boom from cell 2'
      })
    ]);
    expect(out.cells[2].outputs).toEqual([]);
  });

  const exiting = (exit: string): NotebookContent => ({
    nbformat: 4,
    nbformat_minor: 4,
    metadata: {
      kernelspec: {
        name: 'python3',
        display_name: 'Python 3',
        language: 'python'
      }
    },
    cells: [
      {
        cell_type: 'code',
        source: 'print("first")',
        metadata: {},
        outputs: [],
        execution_count: null
      },
      {
        cell_type: 'code',
        source: `import sys\n${exit}`,
        metadata: {},
        outputs: [],
        execution_count: null
      },
      {
        cell_type: 'code',
        source: 'print("never")',
        metadata: {},
        outputs: [],
        execution_count: null
      }
    ]
  });

  it.each(['sys.exit(0)', 'sys.exit()', 'sys.exit(None)'])(
    'ends with success at %s, as papermill does, running no later cell',
    exit => {
      const result = runJob(exiting(exit), {});

      expect(result.status).toBe(0);
      expect(result.stdout).toContain(
        '[hpc-bridge] cell 2/3 ended the notebook'
      );
      expect(result.stdout).not.toContain('never');
      expect(progressFile()).toEqual({ cell: 2, of: 3 });
      expect(output().cells[2].outputs).toEqual([]);
    }
  );

  it('fails at sys.exit(3) with the exit recorded as the error', () => {
    const result = runJob(exiting('sys.exit(3)'), {});

    expect(result.status).toBe(1);
    expect(progressFile()).toEqual({
      cell: 1,
      of: 3,
      error: { ename: 'SystemExit', evalue: '3', cell: 1 }
    });
  });

  it("starts the notebook's kernel and records a kernel the node lacks", () => {
    const nb = exiting('pass');
    nb.metadata.kernelspec = {
      name: 'no-such-kernel',
      display_name: 'X',
      language: 'x'
    };
    const result = runJob(nb, {});

    expect(result.status).toBe(1);
    expect(progressFile()).toEqual({
      cell: 0,
      of: 3,
      error: {
        ename: 'NoSuchKernel',
        evalue: 'no kernel named no-such-kernel on this node',
        cell: null
      }
    });
  });

  it('explains its usage with exit code 2', () => {
    const result = spawnSync('/usr/bin/python3', [RUNNER], {
      encoding: 'utf8'
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('Usage: hpc_bridge_runner.py');
  });
});
