/** The time of day of `iso` in the user's locale; `—` for none. */
export function shortTime(iso: string | null): string {
  return iso ? new Date(iso).toLocaleTimeString() : '—';
}
