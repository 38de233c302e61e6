/**
 * What history says about a suite at one memlimit: how much memory its runs
 * really took and how long they ran. Pure functions, so the numbers are tested
 * without a store.
 */
export interface PastRun {
  peakRssBytes: number;
  durationMs: number;
}

/** Fewer runs than this and the declared reservation stands. */
export const MIN_RUNS_TO_LEARN = 5;
/** Headroom above the observed high percentile: peaks vary between commits and hosts. */
const MARGIN = 1.25;
const PERCENTILE = 0.95;

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? 0;
}

/**
 * A reservation below the declared one when enough past runs peaked well
 * under it: the 95th percentile of their true peaks plus 25%. Null when
 * history is too short or says the declared reservation is right. The agent's
 * limit stays at the declared reservation, so a run above the learned one is
 * still contained.
 */
export function learnedReservation(declaredBytes: number, runs: PastRun[]): number | null {
  if (runs.length < MIN_RUNS_TO_LEARN) return null;
  const learned = Math.ceil(
    percentile(
      runs.map((run) => run.peakRssBytes),
      PERCENTILE,
    ) * MARGIN,
  );
  return learned < declaredBytes ? learned : null;
}

/** How long a job is expected to run: the median of past runs, else its time limit (the worst case). */
export function expectedDurationMs(timeoutSeconds: number, runs: PastRun[]): number {
  if (runs.length === 0) return timeoutSeconds * 1000;
  return Math.min(
    percentile(
      runs.map((run) => run.durationMs),
      0.5,
    ),
    timeoutSeconds * 1000,
  );
}
