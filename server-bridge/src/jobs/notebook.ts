/**
 * Prepares the notebook a job runs: a subset of cells, parameters injected as
 * Python literals (papermill convention), outputs cleared. Nothing is evaluated.
 */
import {
  ParameterNameSchema,
  type NotebookContent,
  type Parameters,
  type ParameterValue
} from '../contract';
import { DomainError } from '../domain-error';

export const PARAMETERS_TAG = 'parameters';
export const INJECTED_TAG = 'injected-parameters';

/** A request the notebook cannot satisfy (→ 400). */
export class NotebookRequestError extends DomainError {
  constructor(message: string, details?: unknown) {
    super('bad_request', message, details);
    this.name = 'NotebookRequestError';
  }
}

type Cell = NotebookContent['cells'][number];

export interface IPrepareOptions {
  /** Indices of the cells to keep; they run in notebook order, duplicates once. */
  cells?: readonly number[];
  parameters: Parameters;
}

// Names that are identifiers to the regex but not assignable in Python 3.
const PYTHON_KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del elif else ' +
    'except finally for from global if import in is lambda nonlocal not or pass raise ' +
    'return try while with yield'
  ).split(' ')
);

function pythonString(s: string): string {
  let out = '"';
  // for…of walks code points, so astral characters become one \U escape.
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '\\' || ch === '"') {
      out += `\\${ch}`;
    } else if (ch === '\n') {
      out += '\\n';
    } else if (ch === '\r') {
      out += '\\r';
    } else if (ch === '\t') {
      out += '\\t';
    } else if (cp >= 0x20 && cp < 0x7f) {
      out += ch;
    } else if (cp <= 0xff) {
      out += `\\x${cp.toString(16).padStart(2, '0')}`;
    } else if (cp <= 0xffff) {
      out += `\\u${cp.toString(16).padStart(4, '0')}`;
    } else {
      out += `\\U${cp.toString(16).padStart(8, '0')}`;
    }
  }
  return `${out}"`;
}

function pythonNumber(n: number): string {
  if (!Number.isFinite(n)) {
    throw new NotebookRequestError(
      `parameter value ${n} is not a finite number`
    );
  }
  if (Object.is(n, -0)) {
    return '-0.0';
  }
  // A whole number below 1e21 becomes a Python int; beyond 2^53 JSON already lost its
  // low digits, so the int would silently differ from what the caller wrote.
  if (Number.isInteger(n) && !Number.isSafeInteger(n) && Math.abs(n) < 1e21) {
    throw new NotebookRequestError(
      `parameter value ${n} is a whole number beyond ±(2^53−1), which JSON numbers cannot carry exactly; send it as a string and convert it in the notebook`
    );
  }
  // JS renders finite numbers as `12`, `-0.5`, `1e+21`, `5e-7`: all Python literals.
  return String(n);
}

/**
 * A Python literal for a parameter value. The result is pure ASCII and contains
 * no code: strings are double-quoted with every special character escaped.
 */
export function pythonLiteral(v: ParameterValue): string {
  if (Array.isArray(v)) {
    return `[${v.map(pythonLiteral).join(', ')}]`;
  }
  if (v === null) {
    return 'None';
  }
  switch (typeof v) {
    case 'string':
      return pythonString(v);
    case 'number':
      return pythonNumber(v);
    case 'boolean':
      return v ? 'True' : 'False';
    default:
      throw new NotebookRequestError('unsupported parameter value');
  }
}

function assertParameterName(name: string): void {
  if (
    !ParameterNameSchema.safeParse(name).success ||
    PYTHON_KEYWORDS.has(name)
  ) {
    throw new NotebookRequestError(
      `parameter name ${JSON.stringify(name)} is not a Python identifier`
    );
  }
}

/** The source of the injected cell: `# Parameters` and one `name = literal` per line. */
export function parametersSource(parameters: Parameters): string {
  const lines = Object.entries(parameters).map(([name, value]) => {
    assertParameterName(name);
    return `${name} = ${pythonLiteral(value)}`;
  });
  return ['# Parameters', ...lines].join('\n') + '\n';
}

function tags(cell: Cell): unknown[] {
  const t = cell.metadata?.tags;
  return Array.isArray(t) ? t : [];
}

function withoutOutputs(cell: Cell): Cell {
  if (cell.cell_type !== 'code') {
    return cell;
  }
  return { ...cell, outputs: [], execution_count: null };
}

function uniqueId(taken: ReadonlySet<unknown>): string {
  let id = INJECTED_TAG;
  for (let i = 2; taken.has(id); i++) {
    id = `${INJECTED_TAG}-${i}`;
  }
  return id;
}

function selectIndices(
  count: number,
  cells: readonly number[] | undefined
): number[] {
  if (cells === undefined) {
    return [...Array(count).keys()];
  }
  const bad = cells.filter(i => !Number.isInteger(i) || i < 0 || i >= count);
  if (bad.length > 0) {
    throw new NotebookRequestError(
      `cell indices out of range (the notebook has ${count} cells): ${bad.join(', ')}`,
      { outOfRange: bad, cellCount: count }
    );
  }
  return [...new Set(cells)].sort((a, b) => a - b);
}

/**
 * The notebook to run: the kept cells (each marked with its index in the source
 * notebook as `metadata.hpc_bridge.source_index`), code outputs cleared, and —
 * when there are parameters — a code cell tagged `injected-parameters` after the
 * first kept cell tagged `parameters`, else first. As in papermill, cells tagged
 * `injected-parameters` from an earlier run are dropped first when there are new
 * parameters (kept otherwise). The input is not modified.
 */
export function prepareNotebook(
  nb: NotebookContent,
  options: IPrepareOptions
): NotebookContent {
  const source = structuredClone(nb);
  const inject = Object.keys(options.parameters).length > 0;
  const kept: Cell[] = selectIndices(source.cells.length, options.cells)
    .filter(i => !(inject && tags(source.cells[i]).includes(INJECTED_TAG)))
    .map(i => {
      const cell = withoutOutputs(source.cells[i]);
      return {
        ...cell,
        metadata: { ...cell.metadata, hpc_bridge: { source_index: i } }
      };
    });
  if (inject) {
    const injected: Cell = {
      cell_type: 'code',
      execution_count: null,
      metadata: { tags: [INJECTED_TAG] },
      outputs: [],
      source: parametersSource(options.parameters)
    };
    // nbformat 4.5 requires cell ids (and 4.4 forbids them).
    if (source.nbformat_minor >= 5) {
      injected.id = uniqueId(new Set(kept.map(c => c.id)));
    }
    const at = kept.findIndex(c => tags(c).includes(PARAMETERS_TAG)) + 1;
    kept.splice(at, 0, injected);
  }
  return { ...source, cells: kept };
}

function metadataString(value: unknown, key: string): string | null {
  if (typeof value !== 'object' || value === null) {
    return null;
  }
  const v = (value as Record<string, unknown>)[key];
  return typeof v === 'string' && v !== '' ? v : null;
}

/**
 * Refuses (400) a notebook whose kernel the profile does not offer: the kernel is
 * `metadata.kernelspec.name`, or python3 for a notebook that names none and whose
 * language (kernelspec or `language_info`) is Python or unstated. Parameters are Python
 * literals, so with parameters the notebook's language must be Python too.
 */
export function checkKernel(
  nb: NotebookContent,
  profile: { name: string; kernels: readonly string[] },
  withParameters: boolean
): void {
  const name = metadataString(nb.metadata.kernelspec, 'name');
  const languages = [
    metadataString(nb.metadata.kernelspec, 'language'),
    metadataString(nb.metadata.language_info, 'name')
  ].filter(l => l !== null);
  const language = languages.find(l => l.toLowerCase() !== 'python') ?? null;
  const kernel = name ?? (language === null ? 'python3' : null);
  const offered = profile.kernels.join(', ');
  if (kernel === null || !profile.kernels.includes(kernel)) {
    const what =
      kernel === null
        ? `a kernel for ${language ?? '?'}`
        : `the kernel ${kernel}`;
    throw new NotebookRequestError(
      `The notebook needs ${what}, but profile ${profile.name} runs notebooks with ${offered} only; switch the notebook's kernel or pick a profile that offers it`,
      { kernel, language, kernels: profile.kernels }
    );
  }
  if (withParameters && language !== null) {
    throw new NotebookRequestError(
      `Parameters are injected as Python code, but the notebook's language is ${language}; submit it without parameters`,
      { kernel, language }
    );
  }
}
