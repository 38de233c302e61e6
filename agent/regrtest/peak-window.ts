import { writeFileSync } from "node:fs";
import type { PeakMeasure } from "../../protocol/messages.ts";
import { peakRssOf } from "../processes/proc-reading.ts";
import { type SeenProcesses, treeOf } from "../processes/process-tree.ts";
import type { ProcessMarks } from "../processes/sampler.ts";
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
 * sample interval, at most once a second) moves the marks into the window's own running peak and
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
    rootPid: number,
    seen: SeenProcesses,
    private readonly keep: (bytes: number) => void,
    readonly measuredBy: PeakMeasure = "process-tree",
    /**
     * Where the marks are read and reset: the sampler's open files and process list, so a fold
     * walks no tree (folds on a 50-process tree cost more than the sampler). fold() takes the
     * processes known at the last walk; reset() and peak() list them afresh: a test's edges see
     * every process.
     */
    private readonly marks: ProcessMarks = marksByPath(rootPid, seen),
  ) {}

  reset(): void {
    // Since the fold before last: the end of the test before and the start of this one.
    this.folded = maxOf(this.lastFold, this.clearMarks(true));
    this.lastFold = null;
  }

  /** Moves the kernel's marks into the window, so the next reset inherits only what came after. */
  fold(): void {
    this.lastFold = this.clearMarks(false);
    this.folded = maxOf(this.folded, this.lastFold);
  }

  peak(): number | null {
    let highest = this.folded;
    for (const pid of this.marks.pids(true)) highest = maxOf(highest, this.marks.highWaterMark(pid));
    return highest;
  }

  /** Reads each process's mark (kept for the job's peak), resets it, and returns the highest. */
  private clearMarks(fresh: boolean): number | null {
    const marks = this.marks;
    let highest: number | null = null;
    for (const pid of marks.pids(fresh)) {
      const mark = marks.highWaterMark(pid);
      if (mark !== null) {
        this.keep(mark);
        highest = maxOf(highest, mark);
      }
      // Gone, or not ours: its mark simply keeps growing from earlier.
      marks.clear(pid);
    }
    return highest;
  }
}

/** The tree walked afresh each time, its marks read and reset by path (no sampler to share). */
function marksByPath(rootPid: number, seen: SeenProcesses): ProcessMarks {
  return {
    pids: () => {
      const pids = treeOf(rootPid);
      seen.remember(pids);
      return pids;
    },
    highWaterMark: peakRssOf,
    clear: (pid) => {
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, "5");
        return true;
      } catch {
        return false;
      }
    },
  };
}

function maxOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
