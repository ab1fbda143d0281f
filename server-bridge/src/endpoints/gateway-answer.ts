/**
 * Reading a model server's answers: the usage they report, the model name they show,
 * an SSE stream passed through event by event, a whole answer read with a size cap.
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { normaliseUpstreamError, OpenAIError } from './gateway-errors';

/** Largest non-streaming answer read for its usage; larger ones pass through uncounted. */
const MAX_BUFFERED_ANSWER = 64 * 1024 * 1024;

const UsageSchema = z.looseObject({
  prompt_tokens: z.number().nonnegative().optional(),
  completion_tokens: z.number().nonnegative().optional(),
  total_tokens: z.number().nonnegative().optional()
});

const AnswerSchema = z.looseObject({
  usage: UsageSchema.nullish(),
  choices: z.array(z.unknown()).optional()
});

export interface ITokens {
  prompt: number;
  completion: number;
}

export function tokensOf(usage: z.infer<typeof UsageSchema>): ITokens {
  const prompt = usage.prompt_tokens ?? 0;
  const completion =
    usage.completion_tokens ?? Math.max(0, (usage.total_tokens ?? 0) - prompt);
  return { prompt, completion };
}

/** The usage an answer reports; null when it reports none. */
export function usageOfAnswer(body: Buffer): ITokens | null {
  const parsed = AnswerSchema.safeParse(jsonOrText(body));
  return parsed.success && parsed.data.usage
    ? tokensOf(parsed.data.usage)
    : null;
}

/** A body as JSON, or as its text when it is not JSON. */
export function jsonOrText(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text.trim() === '' ? null : { message: text.trim() };
  }
}

/**
 * Shows the endpoint's model name where the model server answers with its own (llama-server
 * answers with the model's file path): the first `"model":"…"` of a JSON text is
 * replaced, as text, without parsing.
 */
export class ModelName {
  private upstream: string | null = null;
  private readonly ours: string;

  constructor(model: string) {
    this.ours = `"model":${JSON.stringify(model)}`;
  }

  apply(text: string): string {
    if (this.upstream === null) {
      const m = /"model":"(?:[^"\\]|\\.)*"/.exec(text);
      if (m === null) {
        return text;
      }
      this.upstream = m[0];
    }
    return this.upstream === this.ours
      ? text
      : text.replace(this.upstream, this.ours);
  }
}

const ChunkSchema = z.looseObject({
  choices: z.array(z.unknown()).optional(),
  usage: UsageSchema.nullish()
});

/**
 * Splits an SSE stream into events and reads the usage. Each complete event is
 * returned as soon as its blank line arrived; partial events wait for the rest.
 * Without a usage chunk (an aborted stream), the content chunks seen count as
 * completion tokens (one token per chunk, as llama.cpp and vLLM stream them). An
 * error event is passed on in OpenAI's error shape.
 */
export class SseUsage {
  private buffer = '';
  /** The usage the stream reported; null until (unless) it does. */
  usage: ITokens | null = null;
  /** Content chunks passed on. */
  chunks = 0;
  /** Whether the stream's `data: [DONE]` event has passed. */
  done = false;

  constructor(
    private readonly keepUsage: boolean,
    private readonly model: ModelName
  ) {}

  push(text: string): string {
    this.buffer += text;
    let out = '';
    for (;;) {
      const m = /\r?\n\r?\n/.exec(this.buffer);
      if (m === null) {
        return out;
      }
      const event = this.buffer.slice(0, m.index);
      const sep = m[0];
      this.buffer = this.buffer.slice(m.index + sep.length);
      const kept = this.event(event);
      if (kept !== null) {
        out += kept + sep;
      }
    }
  }

  /** What is left at the end (an event without its blank line). */
  end(): string {
    const rest = this.buffer;
    this.buffer = '';
    if (rest.trim() === '') {
      return rest;
    }
    return this.event(rest) ?? '';
  }

  /** The event to pass on (possibly rewritten), or null to drop it. */
  private event(raw: string): string | null {
    const event = this.model.apply(raw);
    const error = event.includes('"error"') ? errorEvent(event) : null;
    if (error !== null) {
      return error;
    }
    if (!event.includes('"usage"')) {
      // The common case, a token: no JSON parse.
      if (event.includes('"choices":[{')) {
        this.chunks += 1;
      } else if (isDoneEvent(event)) {
        this.done = true;
      }
      return event;
    }
    const lines = event.split(/\r?\n/);
    const dataLines = lines.filter(l => l.startsWith('data:'));
    if (dataLines.length !== 1) {
      return event;
    }
    const data = (dataLines[0] as string).slice(5).trim();
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return event;
    }
    const parsed = ChunkSchema.safeParse(json);
    if (!parsed.success) {
      return event;
    }
    const { usage, choices } = parsed.data;
    if (usage === undefined || usage === null) {
      if ((choices?.length ?? 0) > 0) {
        this.chunks += 1;
      }
      return event;
    }
    this.usage = tokensOf(usage);
    if (this.keepUsage) {
      return event;
    }
    if (choices === undefined || choices.length === 0) {
      return null;
    }
    // A final chunk that carries both the last choice and the usage: keep the choice.
    const rest = { ...(json as Record<string, unknown>) };
    delete rest.usage;
    return lines
      .map(l => (l.startsWith('data:') ? `data: ${JSON.stringify(rest)}` : l))
      .join('\n');
  }
}

function isDoneEvent(event: string): boolean {
  return (
    event.includes('[DONE]') &&
    event
      .split(/\r?\n/)
      .some(l => l.startsWith('data:') && l.slice(5).trim() === '[DONE]')
  );
}

const ErrorEventSchema = z.looseObject({ error: z.unknown() });

/**
 * An SSE event whose data is `{error: …}`, with that error in OpenAI's shape; null
 * for any other event.
 */
function errorEvent(event: string): string | null {
  const lines = event.split(/\r?\n/);
  const dataLines = lines.filter(l => l.startsWith('data:'));
  if (dataLines.length !== 1) {
    return null;
  }
  let json: unknown;
  try {
    json = JSON.parse((dataLines[0] as string).slice(5).trim());
  } catch {
    return null;
  }
  const parsed = ErrorEventSchema.safeParse(json);
  if (!parsed.success || parsed.data.error === undefined) {
    return null;
  }
  const e = parsed.data.error;
  const code =
    typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
  const status = typeof code === 'number' && code >= 400 ? code : 500;
  const body = normaliseUpstreamError(status, json);
  return lines
    .map(l => (l.startsWith('data:') ? `data: ${JSON.stringify(body)}` : l))
    .join('\n');
}

/** A whole (non-streaming) answer; 502 when it is larger than the gateway accepts. */
export async function readAnswer(answer: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of answer) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BUFFERED_ANSWER) {
      throw new OpenAIError(
        502,
        'The model server answered more than the gateway accepts.',
        'server_error',
        'upstream_error'
      );
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** What a relayed stream has counted: the usage it reported, the content chunks passed on. */
export interface IRelayed {
  reported: ITokens | null;
  chunks: number;
}

export interface IRelayWatch {
  /** Sees the text written to `res`, before it is written. */
  onChunk?: (text: string) => void;
  /**
   * Called once, with what the stream counted so far, just before its `data: [DONE]`
   * event (or, without one, its end) is written to `res`; never for a stream cut
   * before that. It runs in the stream's handlers: it must not throw.
   */
  beforeDone?: (sofar: IRelayed) => void;
}

/**
 * Passes an SSE answer through event by event as it arrives, reading the usage of
 * the final chunk; that chunk is dropped (or its `usage` removed) when the client
 * did not ask for usage itself. `headers` are added to the answer's own.
 */
export function relayStream(
  answer: Readable,
  res: ServerResponse,
  clientWantsUsage: boolean,
  model: string,
  headers: Record<string, string> = {},
  watch: IRelayWatch = {}
): Promise<IRelayed & { complete: boolean }> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    ...headers
  });
  res.flushHeaders();
  const parser = new SseUsage(clientWantsUsage, new ModelName(model));
  let announced = false;
  const beforeDone = (): void => {
    if (!announced) {
      announced = true;
      watch.beforeDone?.({ reported: parser.usage, chunks: parser.chunks });
    }
  };
  return new Promise(resolve => {
    let done = false;
    const finish = (complete: boolean): void => {
      if (done) {
        return;
      }
      done = true;
      const tail = parser.end();
      if (complete) {
        if (tail !== '') {
          watch.onChunk?.(tail);
        }
        beforeDone();
        if (tail !== '') {
          res.write(tail);
        }
        res.end();
      } else {
        answer.destroy();
        res.destroy();
      }
      resolve({ reported: parser.usage, chunks: parser.chunks, complete });
    };
    answer.setEncoding('utf8');
    answer.on('data', (chunk: string) => {
      const out = parser.push(chunk);
      if (out === '') {
        return;
      }
      watch.onChunk?.(out);
      if (parser.done) {
        beforeDone();
      }
      if (!res.write(out)) {
        answer.pause();
        res.once('drain', () => answer.resume());
      }
    });
    answer.on('end', () => finish(true));
    answer.on('error', () => finish(false));
    answer.on('close', () => finish(false));
    res.on('close', () => finish(res.writableFinished));
  });
}
