import type {
  CompletionHandler,
  IInlineCompletionContext,
  IInlineCompletionList,
  IInlineCompletionProvider
} from '@jupyterlab/completer';
import { Text } from '@jupyterlab/coreutils';
import { NotebookPanel } from '@jupyterlab/notebook';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { Widget } from '@lumino/widgets';
import type { InlineCompletionModel } from './InlineCompletionModel';
import { AssistantText } from './text';

/**
 * The assistant as a provider of JupyterLab's inline completer (ghost text,
 * Tab accepts): the prompt is the cells before and the current cell around
 * the cursor; debounce and cancellation are the model's.
 */
export class AssistantInlineProvider implements IInlineCompletionProvider {
  constructor(options: AssistantInlineProvider.IOptions) {
    this._model = options.model;
    this._contextCells = options.contextCells;
    this.name = options.trans.__('HPC Bridge assistant');
  }

  readonly identifier = AssistantInlineProvider.ID;
  readonly name: string;
  /**
   * Enabled by default; JupyterLab's own debouncer is off (the model debounces
   * with the `debounceMs` setting) and a sleeping endpoint gets time to wake.
   */
  readonly schema = {
    default: { enabled: true, debouncerDelay: 0, timeout: 15_000 }
  };

  async fetch(
    request: CompletionHandler.IRequest,
    context: IInlineCompletionContext
  ): Promise<IInlineCompletionList> {
    const cursor = Text.charIndexToJsIndex(request.offset, request.text);
    const prompt = AssistantText.completionPrompt({
      cellsBefore: AssistantInlineProvider.cellsBefore(context.widget),
      text: request.text,
      cursor,
      contextCells: this._contextCells(),
      mimeType: request.mimeType
    });
    const text = await this._model.complete(prompt);
    return { items: text === null ? [] : [{ insertText: text }] };
  }

  private readonly _model: InlineCompletionModel;
  private readonly _contextCells: () => number;
}

export namespace AssistantInlineProvider {
  export const ID = 'jupyterlab-hpc-bridge:assistant';

  export interface IOptions {
    model: InlineCompletionModel;
    /** The `contextCells` setting now. */
    contextCells: () => number;
    trans: TranslationBundle;
  }

  /** The sources of the cells above the active cell of a notebook; none elsewhere. */
  export function cellsBefore(widget: Widget): string[] {
    if (!(widget instanceof NotebookPanel)) {
      return [];
    }
    const notebook = widget.content;
    return notebook.widgets
      .slice(0, Math.max(0, notebook.activeCellIndex))
      .map(cell => cell.model.sharedModel.getSource());
  }
}
