/**
 * The assistant's text handling without DOM: completion prompts, the context
 * sent with chat messages, and what a chat answer puts into a new cell.
 */
export namespace AssistantText {
  /** The bridge keeps the last 8000 characters of a prefix; more is not sent. */
  export const MAX_PREFIX_CHARS = 8000;
  export const MAX_SUFFIX_CHARS = 2000;

  export interface ICompletionPrompt {
    prefix: string;
    suffix: string;
    language?: string;
  }

  export interface IPromptSource {
    /** The sources of the cells before the current one, in order. */
    cellsBefore: readonly string[];
    /** The current cell's (or editor's) text. */
    text: string;
    /** The cursor as an index into `text`. */
    cursor: number;
    /** How many of `cellsBefore` to use (the last ones). */
    contextCells: number;
    mimeType?: string;
  }

  /**
   * The prompt of an inline completion: the last `contextCells` cells before
   * and the current cell up to the cursor (its end bounded), the rest of the
   * cell after.
   */
  export function completionPrompt(source: IPromptSource): ICompletionPrompt {
    const count = Math.max(0, Math.floor(source.contextCells));
    const before = count === 0 ? [] : source.cellsBefore.slice(-count);
    const head = source.text.slice(0, source.cursor);
    const prefix = [...before.filter(cell => cell.trim() !== ''), head].join(
      '\n\n'
    );
    const language = languageOf(source.mimeType);
    return {
      prefix: prefix.slice(-MAX_PREFIX_CHARS),
      suffix: source.text.slice(source.cursor).slice(0, MAX_SUFFIX_CHARS),
      ...(language ? { language } : {})
    };
  }

  /** `python` for `text/x-ipython`, `r` for `text/x-rsrc`; undefined when unknown. */
  export function languageOf(mimeType: string | undefined): string | undefined {
    if (!mimeType) {
      return undefined;
    }
    const name = mimeType
      .replace(/^(text|application)\/(x-)?/, '')
      .replace(/^ipython$/, 'python')
      .replace(/^rsrc$/, 'r');
    return /^[a-z0-9+#-]{1,40}$/i.test(name) ? name : undefined;
  }

  /** Cells as context of a chat message, each fenced with its language. */
  export function cellsContext(
    cells: ReadonlyArray<{ source: string; type: string }>,
    language = 'python'
  ): string {
    return cells
      .map(cell =>
        cell.type === 'code'
          ? `\`\`\`${language}\n${cell.source}\n\`\`\``
          : cell.source
      )
      .join('\n\n');
  }

  /** Text without ANSI escape sequences (colours of a traceback). */
  export function stripAnsi(text: string): string {
    return text.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[@-_]/g, '');
  }

  /** The context of "Explain this error": the cell's source and its traceback. */
  export function errorContext(
    source: string,
    traceback: string,
    language = 'python'
  ): string {
    return `${cellsContext([{ source, type: 'code' }], language)}\n\n\`\`\`\n${stripAnsi(traceback).trim()}\n\`\`\``;
  }

  /** The first fenced code block of a markdown text, or null. */
  export function firstCodeBlock(text: string): string | null {
    const match =
      /^ {0,3}(`{3,}|~{3,})[^\n]*\n([\s\S]*?)^ {0,3}\1[ \t]*$/m.exec(text);
    if (match) {
      return match[2].replace(/\n$/, '');
    }
    // An answer cut off (Stop) inside its first block: the code so far.
    const open = /^ {0,3}(`{3,}|~{3,})[^\n]*\n([\s\S]*)$/m.exec(text);
    return open ? open[2].replace(/\n$/, '') : null;
  }

  /** The new cell of "Insert into a new cell": the first code block, else the whole text as markdown. */
  export function cellOf(text: string): {
    type: 'code' | 'markdown';
    source: string;
  } {
    const code = firstCodeBlock(text);
    return code === null
      ? { type: 'markdown', source: text }
      : { type: 'code', source: code };
  }

  /** A conversation's title from its first message. */
  export function titleOf(message: string): string {
    const line = message.trim().split('\n')[0].trim();
    return line.length <= 60 ? line : `${line.slice(0, 59)}…`;
  }
}
