import type { JobResource, SampleResource } from "../protocol/resources.ts";
import { formatBytes } from "../protocol/sizes.ts";
import { durationText } from "./format.ts";

/** What the live status line shows while `--follow` runs on a terminal. */
export interface FollowState {
  job: JobResource | null;
  currentRssBytes: number | null;
  /** The highest sample seen, or the kernel's peak once the job reports it. */
  peakRssBytes: number | null;
  /** The test regrtest last announced, with its progress, e.g. `[3/10] test_bigmem`. */
  currentTest: string | null;
}

export const emptyFollowState = (): FollowState => ({
  job: null,
  currentRssBytes: null,
  peakRssBytes: null,
  currentTest: null,
});

// regrtest announces tests as "0:00:01 load avg: 0.52 [ 3/10] test_bigmem" (or "[3/10/1]" after failures).
const PROGRESS = /\[\s*(\d+\/\d+)(?:\/\d+)?\]\s+(test\S*)/;

/** The test a regrtest progress line names, or null for any other line. */
export function testFromLogLine(text: string): string | null {
  const match = PROGRESS.exec(text);
  return match ? `[${match[1]}] ${match[2]}` : null;
}

export function withSamples(state: FollowState, samples: SampleResource[]): FollowState {
  const last = samples.at(-1);
  if (!last) return state;
  const highest = Math.max(...samples.map((sample) => sample.rssBytes));
  return {
    ...state,
    currentRssBytes: last.rssBytes,
    peakRssBytes: Math.max(state.peakRssBytes ?? 0, highest),
  };
}

export function withJob(state: FollowState, job: JobResource): FollowState {
  const peak =
    job.peakRssBytes === null ? state.peakRssBytes : Math.max(job.peakRssBytes, state.peakRssBytes ?? 0);
  return { ...state, job, peakRssBytes: peak };
}

/** One line: phase, elapsed time, current and peak memory, current test. */
export function statusText(state: FollowState, nowMs: number): string {
  const job = state.job;
  if (!job) return "waiting for the coordinator...";
  const since = job.startedAt ?? job.createdAt;
  const until = job.finishedAt ? Date.parse(job.finishedAt) : nowMs;
  const elapsed = durationText(Math.max(0, (until - Date.parse(since)) / 1000));
  const parts = [`job ${job.id} ${job.status}`, elapsed];
  if (job.status === "queued" && job.heldReason) parts.push(`waiting: ${job.heldReason}`);
  parts.push(`mem ${formatBytes(state.currentRssBytes)}`, `peak ${formatBytes(state.peakRssBytes)}`);
  if (state.currentTest) parts.push(state.currentTest);
  return parts.join(" | ");
}

/** Carriage return + erase the whole line (ECMA-48 EL 2): the status line is redrawn in place. */
export const CLEAR_LINE = "\r\x1b[2K";

/**
 * A status line kept at the bottom of a terminal under the streaming log.
 * Log lines are printed above it whole: clear the line, print the log line,
 * draw the status again. Only for a TTY; piped output gets plain lines.
 */
export class StatusLine {
  private shown = "";

  constructor(
    private readonly terminal: (text: string) => void,
    private readonly columns: () => number,
  ) {}

  /** Prints `text` (whole lines) through `write`, above the status line. */
  printAbove(write: (text: string) => void, text: string): void {
    if (this.shown) this.terminal(CLEAR_LINE);
    write(text);
    if (this.shown) this.terminal(this.shown);
  }

  draw(text: string): void {
    // A line wider than the terminal wraps, and \r would then redraw only its last row.
    const fitted = text.slice(0, Math.max(1, this.columns() - 1));
    this.shown = fitted;
    this.terminal(`${CLEAR_LINE}${fitted}`);
  }

  clear(): void {
    if (this.shown) this.terminal(CLEAR_LINE);
    this.shown = "";
  }
}
