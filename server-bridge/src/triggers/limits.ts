/** A trigger's limits: whether one more run may start now, and if not, why not. */
import type { TriggerLimits } from '../contract';

const HOUR_MS = 3600_000;

/** The window `maxPerHour` counts in: runs started after this. */
export function hourBefore(now: Date): string {
  return new Date(now.getTime() - HOUR_MS).toISOString();
}

function clock(at: Date): string {
  return at.toISOString().slice(11, 16);
}

/**
 * Why a run must wait, or null when it may start. `going`: runs starting or running;
 * `startedInHour`: when the runs of the last hour started, oldest first.
 */
export function holdReason(
  limits: TriggerLimits,
  going: number,
  startedInHour: readonly string[]
): string | null {
  if (going >= limits.maxConcurrent) {
    return `${going} ${going === 1 ? 'run' : 'runs'} going: the limit is ${limits.maxConcurrent} at a time`;
  }
  const n = startedInHour.length;
  if (n >= limits.maxPerHour) {
    const leaves = startedInHour[n - limits.maxPerHour] ?? '';
    const next = new Date(Date.parse(leaves) + HOUR_MS);
    return `${n} ${n === 1 ? 'run' : 'runs'} in the last hour: the limit is ${limits.maxPerHour}; next at ${clock(next)} UTC`;
  }
  return null;
}

export const PAUSED = 'paused';
