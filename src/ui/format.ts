/** The time of day of `iso` in the user's locale; `—` for none. */
export function shortTime(iso: string | null): string {
  return iso ? new Date(iso).toLocaleTimeString() : '—';
}

/** The message of an error (or of anything thrown) for the user. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
