import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { Cell } from '@jupyterlab/cells';
import { AssistantText } from './text';

/** The assistant's reach into the active notebook: context to send and cells to insert. */
export namespace AssistantNotebook {
  /** The language of a notebook's kernel (for code fences); `python` when unknown. */
  export function languageOf(panel: NotebookPanel): string {
    const info = panel.model?.metadata['language_info'] as
      { name?: unknown } | undefined;
    return typeof info?.name === 'string' ? info.name : 'python';
  }

  /** The selected cells (or the active one) of the active notebook as context; null without a notebook. */
  export function selectedCellsContext(
    tracker: INotebookTracker
  ): string | null {
    const panel = tracker.currentWidget;
    if (!panel) {
      return null;
    }
    const cells = panel.content.widgets
      .filter(cell => panel.content.isSelectedOrActive(cell))
      .map(cell => ({
        type: cell.model.type,
        source: cell.model.sharedModel.getSource()
      }))
      .filter(cell => cell.source.trim() !== '');
    return cells.length === 0
      ? null
      : AssistantText.cellsContext(cells, languageOf(panel));
  }

  /**
   * Inserts a cell below the active cell of the active notebook: the first code
   * block of `text`, else `text` as markdown. False without a notebook.
   */
  export function insertBelow(
    tracker: INotebookTracker,
    text: string
  ): boolean {
    const panel = tracker.currentWidget;
    const model = panel?.content.model;
    if (!panel || !model) {
      return false;
    }
    const { type, source } = AssistantText.cellOf(text);
    const index = Math.max(0, panel.content.activeCellIndex + 1);
    model.sharedModel.insertCell(
      Math.min(index, model.sharedModel.cells.length),
      type === 'code'
        ? { cell_type: 'code', source, metadata: {}, outputs: [] }
        : { cell_type: 'markdown', source, metadata: {} }
    );
    panel.content.activeCellIndex = index;
    return true;
  }

  /** The cell of the active notebook whose node holds `node`, and its notebook. */
  export function cellOfNode(
    tracker: INotebookTracker,
    node: HTMLElement
  ): { panel: NotebookPanel; cell: Cell } | null {
    const panel = tracker.currentWidget;
    const cell = panel?.content.widgets.find(c => c.node.contains(node));
    return panel && cell ? { panel, cell } : null;
  }

  /**
   * The context of "Explain this error" for an error output's node: the cell's
   * source and its traceback (from the outputs, ANSI stripped; else the text
   * shown). Null when the node is in no cell of the active notebook.
   */
  export function errorContext(
    tracker: INotebookTracker,
    node: HTMLElement
  ): string | null {
    const found = cellOfNode(tracker, node);
    if (!found) {
      return null;
    }
    const { panel, cell } = found;
    const outputs = (cell.model.toJSON() as { outputs?: unknown[] }).outputs;
    const traceback = (outputs ?? [])
      .map(tracebackOf)
      .filter((text): text is string => text !== null)
      .join('\n');
    return AssistantText.errorContext(
      cell.model.sharedModel.getSource(),
      traceback || (node.textContent ?? ''),
      languageOf(panel)
    );
  }

  /** The text of an `error` output or a stderr stream; null for other outputs. */
  function tracebackOf(output: unknown): string | null {
    const o = output as {
      output_type?: string;
      name?: string;
      text?: string | string[];
      ename?: string;
      evalue?: string;
      traceback?: string[];
    };
    if (o.output_type === 'error') {
      return o.traceback?.length
        ? o.traceback.join('\n')
        : `${o.ename ?? 'Error'}: ${o.evalue ?? ''}`;
    }
    if (o.output_type === 'stream' && o.name === 'stderr') {
      return Array.isArray(o.text) ? o.text.join('') : (o.text ?? '');
    }
    return null;
  }
}
