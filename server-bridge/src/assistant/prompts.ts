/** The model requests the assistant sends: an inline completion, a chat turn with its history. */
import type { ChatMessage } from '../contract';

/** Characters of the text before the cursor a completion sees (its end). */
export const COMPLETION_PREFIX_CHARS = 8000;
/** Characters of the text after the cursor a completion sees (its start). */
export const COMPLETION_SUFFIX_CHARS = 2000;
/** The most tokens an inline completion asks for. */
export const COMPLETION_MAX_TOKENS = 64;
/** A chat request's messages stay below this many bytes (as JSON): oldest dropped first. */
export const CHAT_REQUEST_BYTES = 24 * 1024;
/** History messages sent with a chat turn, at most. */
export const CHAT_HISTORY_MESSAGES = 20;

const SYSTEM_PROMPT =
  'You are a coding assistant in JupyterLab. Answer briefly and precisely; put code in fenced code blocks with their language.';

/** How a line comment starts in a language (for the completion's language hint). */
function commentOf(language: string): string {
  const l = language.toLowerCase();
  if (
    /^(javascript|typescript|java|c|cpp|c\+\+|rust|go|scala|kotlin|swift|csharp)$/.test(
      l
    )
  ) {
    return '//';
  }
  if (/^(sql|haskell|lua)$/.test(l)) {
    return '--';
  }
  if (/^(matlab|octave)$/.test(l)) {
    return '%';
  }
  return '#';
}

export interface ICompletionInput {
  prefix: string;
  suffix: string;
  language?: string | undefined;
  maxTokens?: number | undefined;
}

/** The `/v1/completions` body of an inline completion. */
export function completionBody(
  input: ICompletionInput
): Record<string, unknown> {
  const hint =
    input.language === undefined || input.language.trim() === ''
      ? ''
      : `${commentOf(input.language)} Language: ${input.language}\n`;
  return {
    prompt: hint + input.prefix.slice(-COMPLETION_PREFIX_CHARS),
    suffix: input.suffix.slice(0, COMPLETION_SUFFIX_CHARS),
    max_tokens: Math.min(
      input.maxTokens ?? COMPLETION_MAX_TOKENS,
      COMPLETION_MAX_TOKENS
    ),
    temperature: 0.2,
    stop: ['\n\n\n'],
    stream: false
  };
}

export interface IChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

const bytesOf = (turns: readonly IChatTurn[]): number =>
  Buffer.byteLength(JSON.stringify(turns));

/** The user's message with its context (the context first, cut from its start to fit). */
function userTurn(
  content: string,
  context: string | null,
  room: number
): IChatTurn {
  if (context === null || context.trim() === '') {
    return { role: 'user', content };
  }
  const turn = (c: string): IChatTurn => ({
    role: 'user',
    content: `Context from the notebook:\n\`\`\`\n${c === context ? '' : '…'}${c}\n\`\`\`\n\n${content}`
  });
  let kept = context;
  // Each character costs at least a byte (up to 6 escaped): drop `over` and measure again.
  for (;;) {
    const over = bytesOf([turn(kept)]) - room;
    if (over <= 0) {
      return turn(kept);
    }
    if (kept.length === 0) {
      return { role: 'user', content };
    }
    kept = kept.slice(over);
  }
}

/**
 * The messages of a chat turn: the system prompt, as many of the latest history messages
 * as fit (oldest dropped first, never starting with an answer), then the new message
 * with its context; the whole below CHAT_REQUEST_BYTES where the new message allows.
 */
export function chatMessages(
  history: readonly ChatMessage[],
  content: string,
  context: string | null
): IChatTurn[] {
  const system: IChatTurn = { role: 'system', content: SYSTEM_PROMPT };
  const room = CHAT_REQUEST_BYTES - bytesOf([system]);
  const turn = userTurn(content, context, room);
  const kept: IChatTurn[] = [];
  let used = bytesOf([system, turn]);
  for (const m of history.slice(-CHAT_HISTORY_MESSAGES).reverse()) {
    const t: IChatTurn = { role: m.role, content: m.content };
    const size = bytesOf([t]);
    if (used + size > CHAT_REQUEST_BYTES) {
      break;
    }
    kept.unshift(t);
    used += size;
  }
  while (kept[0]?.role === 'assistant') {
    kept.shift();
  }
  return [system, ...kept, turn];
}
