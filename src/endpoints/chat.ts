import { createParser } from 'eventsource-parser';

/**
 * A streamed chat completion through the OpenAI-compatible gateway, read in
 * the browser: the answer's text arrives piece by piece.
 */
export namespace GatewayChat {
  export type FetchFunction = (
    input: string,
    init: RequestInit
  ) => Promise<Response>;

  export interface IOptions {
    /** The gateway's base URL (`…/v1`). */
    url: string;
    /** An API key of the endpoint (`hpcb_…`). */
    key: string;
    model: string;
    prompt: string;
    maxTokens?: number;
    signal?: AbortSignal;
    /** Defaults to the global `fetch`. */
    fetch?: FetchFunction;
  }

  /** An error answer of the gateway, with its HTTP status and OpenAI code. */
  export class GatewayError extends Error {
    constructor(
      message: string,
      readonly status: number,
      readonly code: string | null
    ) {
      super(message);
      this.name = 'GatewayError';
    }
  }

  /**
   * Sends `prompt` with `stream: true` and yields the answer's text as the
   * gateway passes it on. Rejects with a `GatewayError` for error answers.
   */
  export async function* stream(
    options: IOptions
  ): AsyncGenerator<string, void, undefined> {
    const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
    const response = await doFetch(
      `${options.url.replace(/\/+$/, '')}/chat/completions`,
      {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${options.key}`,
          'Content-Type': 'application/json',
          Accept: 'text/event-stream'
        },
        body: JSON.stringify({
          model: options.model,
          messages: [{ role: 'user', content: options.prompt }],
          max_tokens: options.maxTokens ?? 64,
          stream: true
        }),
        cache: 'no-store',
        signal: options.signal
      }
    );
    if (!response.ok) {
      throw await errorOf(response);
    }
    yield* deltas(response);
  }

  /**
   * The text deltas of a streamed chat completion answer (`text/event-stream`
   * of OpenAI chunks), as they arrive. An `error` chunk rejects with a
   * `GatewayError`.
   */
  export async function* deltas(
    response: Response
  ): AsyncGenerator<string, void, undefined> {
    const body = response.body;
    if (!body) {
      throw new GatewayError(
        'The gateway answered without a body.',
        response.status,
        null
      );
    }
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const events: string[] = [];
    const parser = createParser({ onEvent: event => events.push(event.data) });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        // At the end, a blank line completes an event the gateway left open.
        parser.feed(
          done
            ? `${decoder.decode()}\n\n`
            : decoder.decode(value, { stream: true })
        );
        for (const data of events.splice(0)) {
          const text = textOf(data);
          if (text) {
            yield text;
          }
        }
        if (done) {
          return;
        }
      }
    } finally {
      reader.releaseLock();
    }
  }

  /**
   * The text of one server-sent event line (`data: {…}`), or `null` for
   * other lines, `[DONE]` and chunks without text. An `error` chunk throws.
   */
  export function parseLine(line: string): string | null {
    const events: string[] = [];
    createParser({ onEvent: event => events.push(event.data) }).feed(
      `${line}\n\n`
    );
    return events.length > 0 ? textOf(events[0]) : null;
  }

  /**
   * The text of a chat completion chunk (an event's `data`), or `null` for
   * `[DONE]` and chunks without text. An `error` chunk throws.
   */
  function textOf(eventData: string): string | null {
    const data = eventData.trim();
    if (!data || data === '[DONE]') {
      return null;
    }
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      return null;
    }
    const error = errorMessage(chunk);
    if (error !== null) {
      throw new GatewayError(error, 200, null);
    }
    if (typeof chunk !== 'object' || chunk === null || !('choices' in chunk)) {
      return null;
    }
    const choices = (chunk as { choices: unknown }).choices;
    if (!Array.isArray(choices)) {
      return null;
    }
    let text = '';
    for (const choice of choices as unknown[]) {
      const delta =
        typeof choice === 'object' && choice !== null && 'delta' in choice
          ? (choice as { delta: unknown }).delta
          : null;
      const content =
        typeof delta === 'object' && delta !== null && 'content' in delta
          ? (delta as { content: unknown }).content
          : null;
      if (typeof content === 'string') {
        text += content;
      }
    }
    return text || null;
  }

  /** The sentence of an OpenAI-shaped error body, or `null`. */
  function errorMessage(body: unknown): string | null {
    if (typeof body !== 'object' || body === null || !('error' in body)) {
      return null;
    }
    const error = (body as { error: unknown }).error;
    if (typeof error === 'string') {
      return error;
    }
    if (
      typeof error === 'object' &&
      error !== null &&
      'message' in error &&
      typeof (error as { message: unknown }).message === 'string'
    ) {
      return (error as { message: string }).message;
    }
    return null;
  }

  async function errorOf(response: Response): Promise<GatewayError> {
    const text = await response.text().catch(() => '');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const code =
      typeof body === 'object' &&
      body !== null &&
      'error' in body &&
      typeof (body as { error: unknown }).error === 'object' &&
      (body as { error: { code?: unknown } }).error !== null &&
      typeof (body as { error: { code?: unknown } }).error.code === 'string'
        ? ((body as { error: { code: string } }).error.code ?? null)
        : null;
    return new GatewayError(
      errorMessage(body) ??
        `The gateway answered HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}.`,
      response.status,
      code
    );
  }
}
