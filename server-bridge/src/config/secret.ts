/** Secrets of the config: resolved at load into `Secret`s that never print their value. */
import { inspect } from 'node:util';

export const REDACTED = '[redacted]';

/** A resolved secret. Serialises, prints and inspects as `[redacted]`. */
export class Secret {
  readonly #value: string;

  constructor(
    value: string,
    /** Where it came from, e.g. `env:JUPYTERHUB_API_TOKEN`; safe to log. */
    readonly source: string
  ) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${this.source})`;
  }
}

/** A deep copy of `value` with secrets replaced by `[redacted]`, ready to log. */
export function redact(value: unknown): unknown {
  if (value instanceof Secret) {
    return REDACTED;
  }
  if (Buffer.isBuffer(value)) {
    return `<${value.length} bytes>`;
  }
  if (Array.isArray(value)) {
    return value.map(redact);
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] =
        /token|secret|password|authorization/i.test(k) && typeof v === 'string'
          ? REDACTED
          : redact(v);
    }
    return out;
  }
  return value;
}
