/**
 * Cell jobs: which cells run, and how the executed cells map back onto the
 * notebook they came from. Pure functions over nbformat JSON.
 */
import type { NotebookContent } from '@hpc-bridge/server/contract';
import { cellTags, SETUP_TAG } from './parameters';

/** The tag the bridge gives to the cell it injects with parameter values. */
export const INJECTED_TAG = 'injected-parameters';

type Cell = NotebookContent['cells'][number];

/**
 * The cells of a cell job: every cell tagged `setup`, then the selected
 * cells, in notebook order, without duplicates.
 */
export function jobCellIndices(
  cells: readonly Cell[],
  selected: readonly number[]
): number[] {
  const indices = new Set<number>();
  cells.forEach((cell, index) => {
    if (cellTags(cell).includes(SETUP_TAG)) {
      indices.add(index);
    }
  });
  for (const index of selected) {
    if (index >= 0 && index < cells.length) {
      indices.add(index);
    }
  }
  return [...indices].sort((a, b) => a - b);
}

/** The executed state of one original cell. */
export interface ICellResult {
  /** Index of the cell in the source notebook. */
  index: number;
  /** The cell's id (nbformat ≥ 4.5), when it has one. */
  id: string | null;
  outputs: unknown[];
  executionCount: number | null;
}

/**
 * Map the code cells of an executed cell job back to the source notebook:
 * by `metadata.hpc_bridge.source_index` (set by the bridge), else by cell id
 * where both have one, else by position among the job's cells (`indices`, as
 * sent), ignoring the cell the bridge injected.
 */
export function cellResults(
  source: readonly Cell[],
  indices: readonly number[],
  executed: readonly Cell[]
): ICellResult[] {
  const cells = executed.filter(cell => !cellTags(cell).includes(INJECTED_TAG));
  const byId = new Map<string, Cell>();
  const byIndex = new Map<number, Cell>();
  for (const cell of cells) {
    const id = cellId(cell);
    if (id) {
      byId.set(id, cell);
    }
    const sourceIndex = sourceIndexOf(cell);
    if (sourceIndex !== null) {
      byIndex.set(sourceIndex, cell);
    }
  }
  const results: ICellResult[] = [];
  indices.forEach((index, position) => {
    const original = source[index];
    if (!original || original.cell_type !== 'code') {
      return;
    }
    const id = cellId(original);
    const match =
      byIndex.get(index) ??
      (id ? byId.get(id) : undefined) ??
      (byIndex.size === 0 ? cells[position] : undefined);
    if (!match || match.cell_type !== 'code') {
      return;
    }
    const outputs = Array.isArray(match['outputs'])
      ? (match['outputs'] as unknown[])
      : [];
    const count = match['execution_count'];
    results.push({
      index,
      id,
      outputs,
      executionCount: typeof count === 'number' ? count : null
    });
  });
  return results;
}

/** The stream output that marks cell outputs as coming from a job. */
export function jobMarker(jobId: string): {
  output_type: 'stream';
  name: 'stdout';
  text: string;
} {
  return {
    output_type: 'stream',
    name: 'stdout',
    text: `[HPC Bridge job ${jobId}]\n`
  };
}

function cellId(cell: Cell): string | null {
  const id = cell['id'];
  return typeof id === 'string' && id ? id : null;
}

function sourceIndexOf(cell: Cell): number | null {
  const meta = cell.metadata?.['hpc_bridge'];
  if (meta !== null && typeof meta === 'object' && 'source_index' in meta) {
    const index = (meta as { source_index: unknown }).source_index;
    return typeof index === 'number' ? index : null;
  }
  return null;
}
