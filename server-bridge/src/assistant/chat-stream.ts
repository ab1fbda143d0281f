/** The answer's text, read from the chat completion chunks the gateway streams to the client. */
import { z } from 'zod';

const ChunkSchema = z.looseObject({
  choices: z
    .array(
      z.looseObject({
        delta: z.looseObject({ content: z.string().nullish() }).optional()
      })
    )
    .optional()
});

export class DeltaText {
  private buffer = '';
  text = '';

  /** Takes SSE text as it passes; complete events add their deltas' content. */
  push(sse: string): void {
    this.buffer += sse;
    for (;;) {
      const m = /\r?\n\r?\n/.exec(this.buffer);
      if (m === null) {
        return;
      }
      this.event(this.buffer.slice(0, m.index));
      this.buffer = this.buffer.slice(m.index + m[0].length);
    }
  }

  /** The text with a last event that came without its blank line. */
  end(): string {
    this.event(this.buffer);
    this.buffer = '';
    return this.text;
  }

  private event(raw: string): void {
    for (const line of raw.split(/\r?\n/)) {
      if (!line.startsWith('data:')) {
        continue;
      }
      const data = line.slice(5).trim();
      if (data === '' || data === '[DONE]') {
        continue;
      }
      let json: unknown;
      try {
        json = JSON.parse(data);
      } catch {
        continue;
      }
      const parsed = ChunkSchema.safeParse(json);
      const content = parsed.success
        ? parsed.data.choices?.[0]?.delta?.content
        : undefined;
      if (typeof content === 'string') {
        this.text += content;
      }
    }
  }
}
