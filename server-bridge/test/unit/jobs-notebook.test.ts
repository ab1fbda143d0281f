import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NotebookContentSchema,
  type NotebookContent,
  type Parameters
} from '../../src/contract';
import {
  checkKernel,
  INJECTED_TAG,
  NotebookRequestError,
  parametersSource,
  prepareNotebook,
  pythonLiteral
} from '../../src/jobs/notebook';
import { DomainError } from '../../src/domain-error';
import { statusOfError } from '../../src/errors';

const FIXTURES = join(__dirname, '..', 'fixtures', 'notebooks');

function fixture(name: string): NotebookContent {
  return NotebookContentSchema.parse(
    JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'))
  );
}

function sourceOf(cell: NotebookContent['cells'][number]): string {
  return Array.isArray(cell.source) ? cell.source.join('') : cell.source;
}

function ids(nb: NotebookContent): unknown[] {
  return nb.cells.map(c => c.id);
}

/** params.ipynb with outputs, as if it had been run in the lab. */
function executedParams(): NotebookContent {
  const nb = fixture('params.ipynb');
  nb.cells[3] = {
    ...nb.cells[3],
    execution_count: 4,
    outputs: [{ output_type: 'stream', name: 'stdout', text: 'old\n' }]
  };
  return nb;
}

describe('prepareNotebook', () => {
  it('injects after the parameters cell, clears outputs and keeps metadata', () => {
    const input = executedParams();
    const before = structuredClone(input);
    const nb = prepareNotebook(input, {
      parameters: { alpha: 0.1, name: 'x' }
    });

    expect(input).toEqual(before);
    expect(ids(nb)).toEqual([
      'title',
      'setup',
      'params',
      INJECTED_TAG,
      'compute',
      'double'
    ]);
    const injected = nb.cells[3];
    expect(injected.cell_type).toBe('code');
    expect(injected.metadata).toEqual({ tags: [INJECTED_TAG] });
    expect(sourceOf(injected)).toBe('# Parameters\nalpha = 0.1\nname = "x"\n');
    expect(nb.metadata).toEqual(input.metadata);
    expect(nb.metadata.kernelspec).toMatchObject({ name: 'python3' });
    for (const cell of nb.cells.filter(c => c.cell_type === 'code')) {
      expect(cell.outputs).toEqual([]);
      expect(cell.execution_count).toBeNull();
    }
    expect(nb.cells[4].metadata).toEqual({ hpc_bridge: { source_index: 3 } });
    expect(NotebookContentSchema.safeParse(nb).success).toBe(true);
  });

  it('injects at the top when no cell is tagged parameters', () => {
    const input = fixture('failing.ipynb');
    const nb = prepareNotebook(input, { parameters: { n: 1 } });
    expect(ids(nb)).toEqual([INJECTED_TAG, 'ok', 'fail', 'after']);
  });

  it('keeps a subset in notebook order, once each', () => {
    const nb = prepareNotebook(fixture('params.ipynb'), {
      cells: [4, 1, 4],
      parameters: {}
    });
    expect(ids(nb)).toEqual(['setup', 'double']);
    expect(nb.cells.map(c => c.metadata)).toEqual([
      { tags: ['setup'], hpc_bridge: { source_index: 1 } },
      { hpc_bridge: { source_index: 4 } }
    ]);
  });

  it('injects at the top of a subset without the parameters cell', () => {
    const nb = prepareNotebook(fixture('params.ipynb'), {
      cells: [1, 3],
      parameters: { alpha: 2 }
    });
    expect(ids(nb)).toEqual([INJECTED_TAG, 'setup', 'compute']);
  });

  it('injects after the parameters cell when the subset has it', () => {
    const nb = prepareNotebook(fixture('params.ipynb'), {
      cells: [2, 3],
      parameters: { alpha: 2 }
    });
    expect(ids(nb)).toEqual(['params', INJECTED_TAG, 'compute']);
  });

  it('adds no cell without parameters', () => {
    const nb = prepareNotebook(fixture('params.ipynb'), { parameters: {} });
    expect(nb.cells).toHaveLength(5);
    expect(ids(nb)).not.toContain(INJECTED_TAG);
  });

  it('gives the injected cell a unique id only in nbformat 4.5+', () => {
    const withId = fixture('failing.ipynb');
    withId.cells[0].id = INJECTED_TAG;
    expect(ids(prepareNotebook(withId, { parameters: { a: 1 } }))[0]).toBe(
      `${INJECTED_TAG}-2`
    );

    const old = fixture('failing.ipynb');
    old.nbformat_minor = 4;
    old.cells = old.cells.map(({ id: _id, ...rest }) => rest);
    const nb = prepareNotebook(old, { parameters: { a: 1 } });
    expect('id' in nb.cells[0]).toBe(false);
  });

  it('replaces the injected cell of an earlier run, as papermill does', () => {
    const first = prepareNotebook(fixture('params.ipynb'), {
      parameters: { alpha: 1 }
    });
    // An output notebook (papermill's or ours) submitted again, with a stray copy too.
    const executed = structuredClone(first);
    executed.cells.push({ ...structuredClone(first.cells[3]), id: 'stray' });
    const again = prepareNotebook(executed, { parameters: { alpha: 2 } });

    expect(ids(again)).toEqual([
      'title',
      'setup',
      'params',
      INJECTED_TAG,
      'compute',
      'double'
    ]);
    const injected = again.cells.filter(c =>
      (c.metadata?.tags as unknown[] | undefined)?.includes(INJECTED_TAG)
    );
    expect(injected.map(sourceOf)).toEqual(['# Parameters\nalpha = 2\n']);
  });

  it('keeps the injected cell of an earlier run when there are no new parameters', () => {
    const first = prepareNotebook(fixture('params.ipynb'), {
      parameters: { alpha: 1 }
    });
    const again = prepareNotebook(first, { parameters: {} });
    expect(ids(again)).toEqual(ids(first));
    expect(sourceOf(again.cells[3])).toBe('# Parameters\nalpha = 1\n');
  });

  it('rejects out-of-range cell indices with a 400', () => {
    const nb = fixture('params.ipynb');
    const attempt = (): unknown =>
      prepareNotebook(nb, { cells: [0, 5, 9], parameters: {} });
    expect(attempt).toThrow(NotebookRequestError);
    expect(attempt).toThrow(/out of range.*5, 9/);
    try {
      attempt();
    } catch (e) {
      expect(e).toMatchObject({ code: 'bad_request' });
      expect(statusOfError(e as DomainError)).toBe(400);
    }
  });
});

describe('pythonLiteral', () => {
  it.each<[Parameters[string], string]>([
    [true, 'True'],
    [false, 'False'],
    [null, 'None'],
    [42, '42'],
    [-0.5, '-0.5'],
    [-0, '-0.0'],
    [1e21, '1e+21'],
    ['plain', '"plain"'],
    ['', '""'],
    ['a"b\\c\n', '"a\\"b\\\\c\\n"'],
    ['é✓😀', '"\\xe9\\u2713\\U0001f600"'],
    [[1, 'two', null, false], '[1, "two", None, False]'],
    [[], '[]']
  ])('renders %p as %s', (value, literal) => {
    expect(pythonLiteral(value)).toBe(literal);
  });

  it.each([
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [-Number.MAX_SAFE_INTEGER, '-9007199254740991'],
    [1e300, '1e+300']
  ])('renders the number %p as %s', (n, literal) => {
    expect(pythonLiteral(n)).toBe(literal);
  });

  it.each([2 ** 53, -(2 ** 53), 9007199254740993, 1e20, [1, 2 ** 60]])(
    'refuses the whole number beyond 2^53 in %p with a 400',
    value => {
      const attempt = (): unknown =>
        parametersSource({ seed: value as Parameters[string] });
      expect(attempt).toThrow(NotebookRequestError);
      expect(attempt).toThrow(/beyond ±\(2\^53−1\).*send it as a string/);
    }
  );

  it.each([NaN, Infinity, -Infinity])('refuses %p', n => {
    expect(() => pythonLiteral(n)).toThrow(NotebookRequestError);
  });

  it.each(['import', 'None', 'a b', 'x=1;y', '1x', 'os.system'])(
    'refuses the parameter name %p',
    name => {
      expect(() => parametersSource({ [name]: 1 })).toThrow(
        NotebookRequestError
      );
    }
  );
});

describe('injected parameters under Python', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hpc-inject-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips hostile values exactly and runs none of them', () => {
    const marker = join(dir, 'pwned');
    const touch = `__import__('os').system('touch ${marker}')`;
    const hostile = [
      '"',
      "'",
      '"""',
      "'''",
      `"""; ${touch}; """`,
      `'; ${touch}; '`,
      `"); ${touch}; ("`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `; touch ${marker}`,
      touch,
      `\n${touch}\n`,
      'line1\nline2\r\nline3\u2028\u2029',
      'ends with a backslash \\',
      '\\',
      '\\"',
      '\\N{BULLET} \\x41 \\u0041 {alpha} %s',
      '\0 \x07 \x1b[31m \x7f',
      'ünïcödé ✓ 😀 \ud800',
      'f\'{__import__("os").system("touch x")}\'',
      '# comment'
    ];
    const parameters: Parameters = {
      ...Object.fromEntries(hostile.map((v, i) => [`s${i}`, v])),
      numbers: [
        0,
        -0,
        0.1,
        -7,
        1e21,
        5e-7,
        Number.MAX_SAFE_INTEGER,
        -Number.MAX_SAFE_INTEGER
      ],
      flags: [true, false, null],
      list: hostile
    };
    const names = Object.keys(parameters);
    const program =
      parametersSource(parameters) +
      `import json, sys\nsys.stdout.write(json.dumps([${names.join(', ')}]))\n`;

    const out = execFileSync('/usr/bin/python3', ['-c', program], {
      cwd: dir,
      encoding: 'utf8'
    });

    expect(JSON.parse(out)).toEqual(names.map(n => parameters[n]));
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(dir, 'x'))).toBe(false);
    // The literals are plain ASCII with no line breaks inside a value.
    expect(program).toMatch(/^[\x20-\x7e\n]*$/);
    expect(parametersSource(parameters).split('\n')).toHaveLength(
      names.length + 2
    );
  });
});

describe('checkKernel', () => {
  const PYTHON_ONLY = { name: 'cpu-small', kernels: ['python3'] };
  const withMetadata = (
    metadata: Record<string, unknown>
  ): NotebookContent => ({
    ...fixture('params.ipynb'),
    metadata
  });
  const IR = {
    kernelspec: { name: 'ir', display_name: 'R', language: 'R' },
    language_info: { name: 'R' }
  };

  it.each<[string, Record<string, unknown>]>([
    ['python3', { kernelspec: { name: 'python3', language: 'python' } }],
    ['no metadata', {}],
    ['language_info python only', { language_info: { name: 'python' } }]
  ])('accepts %s on a python3 profile', (_what, metadata) => {
    expect(() =>
      checkKernel(withMetadata(metadata), PYTHON_ONLY, true)
    ).not.toThrow();
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'ir',
      IR,
      /needs the kernel ir, but profile cpu-small runs notebooks with python3 only/
    ],
    [
      'julia-1.10',
      { kernelspec: { name: 'julia-1.10', language: 'julia' } },
      /needs the kernel julia-1.10, .*with python3 only/
    ],
    [
      'language_info R without kernelspec',
      { language_info: { name: 'R' } },
      /needs a kernel for R, .*with python3 only/
    ]
  ])(
    'refuses %s with a 400 naming the offered kernels',
    (_w, metadata, msg) => {
      const attempt = (): void =>
        checkKernel(withMetadata(metadata), PYTHON_ONLY, false);
      expect(attempt).toThrow(NotebookRequestError);
      expect(attempt).toThrow(msg);
    }
  );

  it('accepts a kernel the profile offers, but no Python parameters for another language', () => {
    const both = { name: 'r-too', kernels: ['python3', 'ir'] };
    expect(() => checkKernel(withMetadata(IR), both, false)).not.toThrow();
    expect(() => checkKernel(withMetadata(IR), both, true)).toThrow(
      /Parameters are injected as Python code, but the notebook's language is R/
    );
  });
});
