import { writeFileSync } from "node:fs";
import type { PeakMeasure } from "../../protocol/messages.ts";
import { peakRssOf } from "../processes/proc-reading.ts";
import { type SeenProcesses, treeOf } from "../processes/process-tree.ts";
import type { PeakWindow } from "./test-timeline.ts";

/**
 * Per-test peaks from the kernel: writing 5 to /proc/PID/clear_refs resets a
 * process's high-water mark (VmHWM) to its current RSS, so the mark read at a
 * test's end is that test's peak, spikes between samples included. Before each
 * reset the old mark is handed to `keep`, so the job's own peak loses nothing.
 *
 * The reset races the test: the agent learns a test began only when it reads
 * the progress line, and the test runs from the moment it printed it, so
 * whatever it allocated (and freed) before the reset is in the mark the reset
 * erases. That mark cannot be split between the test that ended and the one
 * that began, so it is credited to both: missing a test's memory is worse than
 * showing a neighbour's. To keep that overlap short, `fold()` (called every
 * sample interval) moves the marks into the window's own running peak and
 * resets them, so what a test inherits covers about two intervals before its
 * start, not its whole predecessor: the current marks, and the last fold's,
 * because a fold due in the same turn of the event loop as the progress line
 * runs first (timers before I/O) and may already hold the test's start.
 */
export class ProcessTreePeakWindow implements PeakWindow {
  /** The window's peak folded out of the kernel's marks since the last reset. */
  private folded: number | null = null;
  /** What the last fold took from the kernel's marks. */
  private lastFold: number | null = null;

  /**
   * @param measuredBy `process-tree` under a cgroup whose mark cannot be reset per test, `process-tree-no-shm`
   *   without a cgroup: then nothing at all counts tmpfs and shared memory, and the records say so.
   */
  constructor(
    private readonly rootPid: number,
    private readonly seen: SeenProcesses,
    private readonly keep: (bytes: number) => void,
    readonly measuredBy: PeakMeasure = "process-tree",
  ) {}

  reset(): void {
    // Since the fold before last: the end of the test before and the start of this one.
    this.folded = maxOf(this.lastFold, this.clearMarks());
    this.lastFold = null;
  }

  /** Moves the kernel's marks into the window, so the next reset inherits only what came after. */
  fold(): void {
    this.lastFold = this.clearMarks();
    this.folded = maxOf(this.folded, this.lastFold);
  }

  peak(): number | null {
    let highest = this.folded;
    for (const pid of this.pids()) highest = maxOf(highest, peakRssOf(pid));
    return highest;
  }

  /** Reads each process's mark (kept for the job's peak), resets it, and returns the highest. */
  private clearMarks(): number | null {
    let highest: number | null = null;
    for (const pid of this.pids()) {
      const mark = peakRssOf(pid);
      if (mark !== null) {
        this.keep(mark);
        highest = maxOf(highest, mark);
      }
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, "5");
      } catch {
        // Gone, or not ours: its mark simply keeps growing from earlier.
      }
    }
    return highest;
  }

  private pids(): number[] {
    const pids = treeOf(this.rootPid);
    this.seen.remember(pids);
    return pids;
  }
}

function maxOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
