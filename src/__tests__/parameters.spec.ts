/**
 * @jest-environment node
 */
import {
  formatLiteral,
  notebookParameters,
  outputPath,
  parseLiteral,
  parseParameters,
  parseSweepValues,
  sanitizeJobName,
  sweepSize
} from '../notebook/parameters';
import { cellResults, jobCellIndices, jobMarker } from '../notebook/cells';

describe('parseParameters', () => {
  it('reads simple assignments of literals', () => {
    const source = [
      '# Parameters',
      'alpha = 0.5',
      'n: int = 10  # iterations',
      "name = 'run #1'",
      'label = "a \\"quoted\\" word"',
      'verbose = True',
      'debug = False',
      'seed = None',
      'sizes = [1, 2.5, -3e2]',
      'pair = ("x", 1)',
      'big = 1_000'
    ].join('\n');
    const { values, skipped } = parseParameters(source);
    expect(values).toEqual({
      alpha: 0.5,
      n: 10,
      name: 'run #1',
      label: 'a "quoted" word',
      verbose: true,
      debug: false,
      seed: null,
      sizes: [1, 2.5, -300],
      pair: ['x', 1],
      big: 1000
    });
    expect(skipped).toEqual([]);
  });

  it('skips what is not a literal, without evaluating it', () => {
    const { values, skipped } = parseParameters(
      [
        'import os',
        'path = os.getcwd()',
        'x = 1 + 2',
        'y == 3',
        'if True:',
        '    z = 4',
        'cmd = "$(rm -rf /)"',
        'ok = 7'
      ].join('\n')
    );
    expect(values).toEqual({ cmd: '$(rm -rf /)', ok: 7 });
    expect(skipped).toEqual([
      'import os',
      'path = os.getcwd()',
      'x = 1 + 2',
      'y == 3',
      'if True:',
      'z = 4'
    ]);
  });

  it('finds the cell tagged parameters', () => {
    const cells = [
      { cell_type: 'code', source: 'a = 1', metadata: {} },
      {
        cell_type: 'code',
        source: ['b = 2\n', "c = 'x'"],
        metadata: { tags: ['parameters'] }
      }
    ];
    expect(notebookParameters(cells)).toEqual({ b: 2, c: 'x' });
    expect(notebookParameters([cells[0]])).toEqual({});
  });
});

describe('literals', () => {
  it('round-trips values through formatLiteral and parseLiteral', () => {
    for (const value of [
      0.1,
      -2,
      'it\'s "fine"\n',
      true,
      null,
      [1, 'two', false, null]
    ]) {
      const parsed = parseLiteral(formatLiteral(value));
      expect(parsed).toEqual({ ok: true, value });
    }
  });

  it('rejects names, calls and unterminated strings', () => {
    expect(parseLiteral('os').ok).toBe(false);
    expect(parseLiteral('print(1)').ok).toBe(false);
    expect(parseLiteral("'open").ok).toBe(false);
    expect(parseLiteral('[1, [2]]').ok).toBe(false);
    expect(parseLiteral('1e999').ok).toBe(false);
  });
});

describe('sweeps', () => {
  it('parses comma-separated values, quoted or bare', () => {
    expect(parseSweepValues('1, 2.5, 3')).toEqual({
      ok: true,
      values: [1, 2.5, 3]
    });
    expect(parseSweepValues("'a,b', adam, True")).toEqual({
      ok: true,
      values: ['a,b', 'adam', true]
    });
    expect(parseSweepValues('  ')).toEqual({ ok: true, values: null });
    expect(parseSweepValues('1,,2').ok).toBe(false);
    expect(parseSweepValues('$(id), 2').ok).toBe(false);
  });

  it('counts the elements of a grid', () => {
    expect(sweepSize(undefined)).toBe(1);
    expect(sweepSize({ a: [1, 2, 3], b: ['x', 'y'] })).toBe(6);
  });
});

describe('names and paths', () => {
  it('makes a valid job name from a file name', () => {
    expect(sanitizeJobName('analysis/My Notebook (v2).ipynb')).toBe(
      'My-Notebook-v2'
    );
    expect(sanitizeJobName('__x.ipynb')).toBe('x');
    expect(sanitizeJobName('$(rm).ipynb')).toBe('rm');
    expect(sanitizeJobName('...ipynb')).toBe('notebook');
    expect(sanitizeJobName('a'.repeat(80) + '.ipynb')).toHaveLength(64);
  });

  it('puts outputs next to the source', () => {
    expect(outputPath('work/sweep.ipynb', 'j42', null)).toBe(
      'work/sweep.job-j42.ipynb'
    );
    expect(outputPath('sweep.ipynb', 'j42', 2)).toBe('sweep.job-j42-2.ipynb');
  });
});

describe('cell jobs', () => {
  const code = (source: string, extra: Record<string, unknown> = {}) => ({
    cell_type: 'code' as const,
    source,
    metadata: {},
    outputs: [],
    execution_count: null,
    ...extra
  });

  it('runs the setup cells and the selection in notebook order', () => {
    const cells = [
      code('import numpy', { metadata: { tags: ['setup'] } }),
      { cell_type: 'markdown' as const, source: '# x', metadata: {} },
      code('a = 1'),
      code('b = 2', { metadata: { tags: ['setup'] } }),
      code('print(a)')
    ];
    expect(jobCellIndices(cells, [4, 2, 4, 99])).toEqual([0, 2, 3, 4]);
  });

  it('maps executed cells back by source index, id, or position', () => {
    const source = [
      code('setup', { id: 's' }),
      code('skip', { id: 'k' }),
      code('x', { id: 'x' })
    ];
    const out = (text: string) => [
      { output_type: 'stream', name: 'stdout', text }
    ];
    const bySourceIndex = [
      code('# Parameters', { metadata: { tags: ['injected-parameters'] } }),
      code('setup', {
        id: 'other',
        metadata: { hpc_bridge: { source_index: 0 } },
        outputs: out('S'),
        execution_count: 1
      }),
      code('x', {
        id: 'other2',
        metadata: { hpc_bridge: { source_index: 2 } },
        outputs: out('X'),
        execution_count: 2
      })
    ];
    expect(cellResults(source, [0, 2], bySourceIndex)).toEqual([
      { index: 0, id: 's', outputs: out('S'), executionCount: 1 },
      { index: 2, id: 'x', outputs: out('X'), executionCount: 2 }
    ]);
    const byPosition = [
      code('setup', { outputs: out('S') }),
      code('x', { outputs: out('X') })
    ];
    expect(
      cellResults(
        [code('setup'), code('skip'), code('x')],
        [0, 2],
        byPosition
      ).map(r => [r.index, r.outputs])
    ).toEqual([
      [0, out('S')],
      [2, out('X')]
    ]);
    expect(jobMarker('j1').text).toBe('[HPC Bridge job j1]\n');
  });
});
