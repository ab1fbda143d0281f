/**
 * Copy-ready code that calls an endpoint through the OpenAI-compatible
 * gateway: Python with the official `openai` client, and curl.
 */
export namespace Snippets {
  /** The environment variable the snippets read the key from. */
  export const KEY_VARIABLE = 'HPCB_API_KEY';

  /** The message the snippets send. */
  export const SAMPLE_PROMPT = 'Hello! Who are you?';

  export interface IOptions {
    /** The gateway's base URL (`…/v1`). */
    url: string;
    /** The endpoint's model name. */
    model: string;
    /** A key to write into the snippet; else it is read from `HPCB_API_KEY`. */
    key?: string | null;
  }

  export interface IBoth {
    python: string;
    curl: string;
  }

  export function both(options: IOptions): IBoth {
    return { python: python(options), curl: curl(options) };
  }

  /** Python with the official `openai` client package. */
  export function python(options: IOptions): string {
    const key = options.key ?? null;
    const lines = key === null ? ['import os'] : [];
    lines.push(
      'from openai import OpenAI',
      '',
      'client = OpenAI(',
      `    base_url=${pythonString(options.url)},`,
      key === null
        ? `    api_key=os.environ[${pythonString(KEY_VARIABLE)}],`
        : `    api_key=${pythonString(key)},`,
      ')',
      'response = client.chat.completions.create(',
      `    model=${pythonString(options.model)},`,
      `    messages=[{"role": "user", "content": ${pythonString(SAMPLE_PROMPT)}}],`,
      ')',
      'print(response.choices[0].message.content)'
    );
    return `${lines.join('\n')}\n`;
  }

  /** curl with a JSON body (a POSIX shell). */
  export function curl(options: IOptions): string {
    const key = options.key ?? null;
    const url = `${options.url.replace(/\/+$/, '')}/chat/completions`;
    const body = JSON.stringify({
      model: options.model,
      messages: [{ role: 'user', content: SAMPLE_PROMPT }]
    });
    const auth =
      key === null
        ? `"Authorization: Bearer $${KEY_VARIABLE}"`
        : shellQuote(`Authorization: Bearer ${key}`);
    return [
      `curl ${shellQuote(url)} \\`,
      `  -H ${auth} \\`,
      `  -H 'Content-Type: application/json' \\`,
      `  -d ${shellQuote(body)}`
    ].join('\n');
  }

  /** A Python string literal of `text` (double quotes, escapes as needed). */
  export function pythonString(text: string): string {
    let out = '"';
    for (const char of text) {
      const code = char.codePointAt(0) ?? 0;
      if (char === '\\' || char === '"') {
        out += `\\${char}`;
      } else if (char === '\n') {
        out += '\\n';
      } else if (char === '\r') {
        out += '\\r';
      } else if (char === '\t') {
        out += '\\t';
      } else if (code < 0x20 || code === 0x7f) {
        out += `\\x${code.toString(16).padStart(2, '0')}`;
      } else {
        out += char;
      }
    }
    return `${out}"`;
  }

  /** One POSIX shell word holding `text` exactly. */
  export function shellQuote(text: string): string {
    return `'${text.replace(/'/g, `'\\''`)}'`;
  }
}
