import type { BlackoutWindow } from "./types.ts";

/** Daily UTC windows in which an agent starts nothing new (jobs already running go on). */

export const MINUTE_MS = 60_000;
export const DAY_MS = 24 * 60 * MINUTE_MS;

function msOfDay(timeMs: number): number {
  return ((timeMs % DAY_MS) + DAY_MS) % DAY_MS;
}

/** When the occurrence of `window` that contains `timeMs` ends, or null if it does not contain it. */
function windowEnd(window: BlackoutWindow, timeMs: number): number | null {
  const from = window.fromMinute * MINUTE_MS;
  const to = window.toMinute * MINUTE_MS;
  const inDay = msOfDay(timeMs);
  const dayStart = timeMs - inDay;
  if (from === to) return null; // empty: a whole-day window would be an agent that never works
  if (from < to) return inDay >= from && inDay < to ? dayStart + to : null;
  // Wraps midnight, e.g. 22:00–08:00.
  if (inDay >= from) return dayStart + DAY_MS + to;
  return inDay < to ? dayStart + to : null;
}

export function inBlackout(windows: readonly BlackoutWindow[], timeMs: number): boolean {
  return windows.some((window) => windowEnd(window, timeMs) !== null);
}

/**
 * The earliest time at or after `timeMs` at which a job may start: the end of the window it falls in,
 * or of the next one that window runs into. Infinity if the windows cover the whole day.
 */
export function nextStartAllowed(windows: readonly BlackoutWindow[], timeMs: number): number {
  let time = timeMs;
  // Each jump lands on the end of a different window, unless the windows cover the whole day and we
  // have gone round once; so windows.length + 1 jumps tell the two apart.
  for (let jump = 0; jump <= windows.length; jump += 1) {
    let moved = false;
    for (const window of windows) {
      const end = windowEnd(window, time);
      if (end !== null) {
        time = end;
        moved = true;
      }
    }
    if (!moved) return time;
  }
  return Number.POSITIVE_INFINITY;
}
