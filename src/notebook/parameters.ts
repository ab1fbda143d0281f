/**
 * Parameters, sweeps, job names and output paths: pure helpers of the Submit
 * dialog. Nothing here evaluates code; Python literals are parsed by hand.
 */
import type {
  ParameterValue,
  Parameters,
  Sweep
} from '@hpc-bridge/server/contract';

type Scalar = string | number | boolean | null;

/** The tag of the papermill parameters cell. */
export const PARAMETERS_TAG = 'parameters';

/** The tag of cells that run before the selected cells of a cell job. */
export const SETUP_TAG = 'setup';

interface ICellLike {
  cell_type: string;
  source: string | string[];
  metadata?: Record<string, unknown>;
}

/** The tags of a cell (`metadata.tags`), ignoring anything malformed. */
export function cellTags(cell: ICellLike): string[] {
  const tags = cell.metadata?.['tags'];
  return Array.isArray(tags)
    ? tags.filter((tag): tag is string => typeof tag === 'string')
    : [];
}

/** The source of a cell as one string. */
export function cellSource(cell: ICellLike): string {
  return Array.isArray(cell.source) ? cell.source.join('') : cell.source;
}

/** The index of the first code cell tagged `parameters`, or -1. */
export function parametersCellIndex(cells: readonly ICellLike[]): number {
  return cells.findIndex(
    cell => cell.cell_type === 'code' && cellTags(cell).includes(PARAMETERS_TAG)
  );
}

/**
 * The `name = literal` assignments of a parameters cell, in order. Lines that
 * are not a simple assignment of a literal are skipped (reported in
 * `skipped`), later assignments win.
 */
export function parseParameters(source: string): {
  values: Parameters;
  skipped: string[];
} {
  const values: Parameters = {};
  const skipped: string[] = [];
  for (const raw of source.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) {
      continue;
    }
    const match = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=]*)?=(?!=)\s*(.*)$/.exec(
      line
    );
    if (!match || raw.startsWith(' ') || raw.startsWith('\t')) {
      skipped.push(line);
      continue;
    }
    const parsed = parseLiteral(Private.stripComment(match[2]));
    if (parsed.ok) {
      values[match[1]] = parsed.value;
    } else {
      skipped.push(line);
    }
  }
  return { values, skipped };
}

/** The parameters of a notebook's `parameters` cell (empty without one). */
export function notebookParameters(cells: readonly ICellLike[]): Parameters {
  const index = parametersCellIndex(cells);
  return index < 0 ? {} : parseParameters(cellSource(cells[index])).values;
}

export type LiteralResult =
  { ok: true; value: ParameterValue } | { ok: false; error: string };

/**
 * Parse a Python literal: a number, a string, `True`/`False`/`None`, or a
 * list/tuple of those.
 */
export function parseLiteral(text: string): LiteralResult {
  const scanner = new Private.Scanner(text);
  try {
    scanner.skipSpace();
    let value: ParameterValue;
    if (scanner.peek() === '[' || scanner.peek() === '(') {
      value = scanner.sequence();
    } else {
      value = scanner.scalar();
    }
    scanner.skipSpace();
    if (!scanner.done) {
      return { ok: false, error: `unexpected "${scanner.rest}"` };
    }
    return { ok: true, value };
  } catch (error) {
    return {
      ok: false,
      error: error instanceof Error ? error.message : String(error)
    };
  }
}

/** A value as the Python literal the runner will see. */
export function formatLiteral(value: ParameterValue): string {
  if (Array.isArray(value)) {
    return `[${value.map(item => formatLiteral(item)).join(', ')}]`;
  }
  if (value === null) {
    return 'None';
  }
  if (typeof value === 'boolean') {
    return value ? 'True' : 'False';
  }
  if (typeof value === 'number') {
    return String(value);
  }
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/**
 * The values of a sweep field: comma-separated literals (`1, 2, 3`,
 * `'a', 'b'`); a bare word is taken as a string. Empty → `null` (no sweep).
 */
export function parseSweepValues(
  text: string
): { ok: true; values: Scalar[] | null } | { ok: false; error: string } {
  if (!text.trim()) {
    return { ok: true, values: null };
  }
  const values: Scalar[] = [];
  for (const item of Private.splitTopLevel(text)) {
    const trimmed = item.trim();
    if (!trimmed) {
      return { ok: false, error: 'empty value between commas' };
    }
    const parsed = parseLiteral(trimmed);
    if (parsed.ok && !Array.isArray(parsed.value)) {
      values.push(parsed.value);
    } else if (/^[A-Za-z0-9_.+-]+$/.test(trimmed)) {
      values.push(trimmed);
    } else {
      return {
        ok: false,
        error: parsed.ok ? 'lists cannot be swept' : parsed.error
      };
    }
  }
  return { ok: true, values };
}

/** How many array elements a sweep expands to (1 without a sweep). */
export function sweepSize(sweep: Sweep | undefined | null): number {
  if (!sweep) {
    return 1;
  }
  return Object.values(sweep).reduce((n, values) => n * values.length, 1);
}

/**
 * A job name from a file name: the contract allows letters, digits, `.`,
 * `_`, `-`, 64 characters, starting with a letter or digit.
 */
export function sanitizeJobName(fileName: string): string {
  const base = (fileName.split('/').pop() ?? '').replace(/\.ipynb$/i, '');
  const cleaned = base
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 64)
    .replace(/[.-]+$/, '');
  return cleaned || 'notebook';
}

/**
 * Where the executed notebook of a job is saved: next to the source,
 * `NAME.job-ID.ipynb`, or `NAME.job-ID-i.ipynb` for array element `i`.
 */
export function outputPath(
  notebookPath: string,
  jobId: string,
  element: number | null
): string {
  const slash = notebookPath.lastIndexOf('/');
  const dir = slash >= 0 ? notebookPath.slice(0, slash + 1) : '';
  const name = notebookPath.slice(slash + 1).replace(/\.ipynb$/i, '');
  const suffix = element === null ? '' : `-${element}`;
  return `${dir}${name}.job-${jobId}${suffix}.ipynb`;
}

namespace Private {
  /** Drop a trailing `# comment` that is not inside a string. */
  export function stripComment(text: string): string {
    let quote: string | null = null;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (quote) {
        if (c === '\\') {
          i++;
        } else if (c === quote) {
          quote = null;
        }
      } else if (c === '"' || c === "'") {
        quote = c;
      } else if (c === '#') {
        return text.slice(0, i).trim();
      }
    }
    return text.trim();
  }

  /** Split on commas outside strings and brackets. */
  export function splitTopLevel(text: string): string[] {
    const parts: string[] = [];
    let quote: string | null = null;
    let depth = 0;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (quote) {
        if (c === '\\') {
          i++;
        } else if (c === quote) {
          quote = null;
        }
      } else if (c === '"' || c === "'") {
        quote = c;
      } else if (c === '[' || c === '(') {
        depth++;
      } else if (c === ']' || c === ')') {
        depth--;
      } else if (c === ',' && depth === 0) {
        parts.push(text.slice(start, i));
        start = i + 1;
      }
    }
    parts.push(text.slice(start));
    return parts;
  }

  const ESCAPES: Record<string, string> = {
    n: '\n',
    t: '\t',
    r: '\r',
    '\\': '\\',
    "'": "'",
    '"': '"',
    '0': '\0'
  };

  export class Scanner {
    constructor(private readonly _text: string) {}

    get done(): boolean {
      return this._pos >= this._text.length;
    }

    get rest(): string {
      return this._text.slice(this._pos);
    }

    peek(): string {
      return this._text[this._pos] ?? '';
    }

    skipSpace(): void {
      while (/\s/.test(this.peek()) && !this.done) {
        this._pos++;
      }
    }

    sequence(): Scalar[] {
      const close = this.peek() === '[' ? ']' : ')';
      this._pos++;
      const items: Scalar[] = [];
      this.skipSpace();
      while (this.peek() !== close) {
        if (this.done) {
          throw new Error(`missing "${close}"`);
        }
        items.push(this.scalar());
        this.skipSpace();
        if (this.peek() === ',') {
          this._pos++;
          this.skipSpace();
        } else if (this.peek() !== close) {
          throw new Error(`expected "," or "${close}"`);
        }
      }
      this._pos++;
      return items;
    }

    scalar(): Scalar {
      this.skipSpace();
      const c = this.peek();
      if (c === '"' || c === "'") {
        return this._string();
      }
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.rest);
      if (word) {
        this._pos += word[0].length;
        switch (word[0]) {
          case 'True':
            return true;
          case 'False':
            return false;
          case 'None':
            return null;
          default:
            throw new Error(`"${word[0]}" is not a literal`);
        }
      }
      const number = /^[+-]?(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][+-]?\d+)?/.exec(
        this.rest
      );
      if (number) {
        this._pos += number[0].length;
        const value = Number(number[0].replace(/_/g, ''));
        if (!Number.isFinite(value)) {
          throw new Error(`"${number[0]}" is not a finite number`);
        }
        return value;
      }
      throw new Error(c ? `unexpected "${c}"` : 'a value is missing');
    }

    private _string(): string {
      const quote = this.peek();
      if (this._text.startsWith(quote.repeat(3), this._pos)) {
        throw new Error('triple-quoted strings are not supported');
      }
      this._pos++;
      let value = '';
      while (!this.done) {
        const c = this._text[this._pos++];
        if (c === quote) {
          return value;
        }
        if (c === '\\') {
          const next = this._text[this._pos++] ?? '';
          value += ESCAPES[next] ?? `\\${next}`;
        } else {
          value += c;
        }
      }
      throw new Error('unterminated string');
    }

    private _pos = 0;
  }
}
