import { parseDuration } from "./durations.ts";

/** Long enough for a bigmem-smoke job; a long bigmem run is handed back and runs again elsewhere. */
export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 600;
const MAX_DRAIN_TIMEOUT_SECONDS = 7 * 24 * 3600;

/**
 * An agent's `--drain-timeout`: how long running jobs may go on after a stop signal. Read here, in
 * one place, because `hosts add` checks it before it installs an agent and writes it into the
 * unit's TimeoutStopSec, and the agent itself reads it again at start.
 */
export function readDrainTimeoutMs(text: string | undefined, field = "--drain-timeout"): number {
  if (text === undefined) return DEFAULT_DRAIN_TIMEOUT_SECONDS * 1000;
  // 0: hand running jobs back at once.
  return parseDuration(text, field, { maxMs: MAX_DRAIN_TIMEOUT_SECONDS * 1000 });
}
