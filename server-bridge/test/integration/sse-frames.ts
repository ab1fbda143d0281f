/**
 * `text/event-stream` text to frames, chunk by chunk, for the tests and benches that read
 * `GET /api/v1/events` without an EventSource. The panel's parser (src/transport/events.ts)
 * lives in the frontend's build, which the bridge's tests do not compile.
 */

/** One event: its `id:`, `event:` and `data:` lines (several `data:` lines joined by `\n`). */
export interface ISseFrame {
  id?: string;
  event?: string;
  data: string;
}

export class SseFrames {
  private buffer = '';

  /** Adds CHUNK; the frames it completed (each ends at a blank line). */
  feed(chunk: string): ISseFrame[] {
    this.buffer += chunk;
    const frames: ISseFrame[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) !== -1) {
      frames.push(parseFrame(this.buffer.slice(0, end)));
      this.buffer = this.buffer.slice(end + 2);
    }
    return frames;
  }
}

function parseFrame(text: string): ISseFrame {
  const frame: ISseFrame = { data: '' };
  const data: string[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon === 0) {
      continue; // a comment
    }
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') {
      data.push(value);
    } else if (field === 'id' || field === 'event') {
      frame[field] = value;
    }
  }
  frame.data = data.join('\n');
  return frame;
}
