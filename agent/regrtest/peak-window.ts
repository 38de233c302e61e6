import { writeFileSync } from "node:fs";
import { peakRssOf } from "../processes/proc-reading.ts";
import { type SeenProcesses, treeOf } from "../processes/process-tree.ts";
import type { PeakWindow } from "./test-timeline.ts";

/**
 * Per-test peaks from the kernel: writing 5 to /proc/PID/clear_refs resets a
 * process's high-water mark (VmHWM) to its current RSS, so the mark read at a
 * test's end is that test's peak, spikes between samples included. Before each
 * reset the old mark is handed to `keep`, so the job's own peak loses nothing.
 */
export class ProcessTreePeakWindow implements PeakWindow {
  constructor(
    private readonly rootPid: number,
    private readonly seen: SeenProcesses,
    private readonly keep: (bytes: number) => void,
  ) {}

  reset(): void {
    for (const pid of this.pids()) {
      const mark = peakRssOf(pid);
      if (mark !== null) this.keep(mark);
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, "5");
      } catch {
        // Gone, or not ours: its mark simply keeps growing from earlier.
      }
    }
  }

  peak(): number | null {
    let highest: number | null = null;
    for (const pid of this.pids()) {
      const mark = peakRssOf(pid);
      if (mark !== null) highest = Math.max(highest ?? 0, mark);
    }
    return highest;
  }

  private pids(): number[] {
    const pids = treeOf(this.rootPid);
    this.seen.remember(pids);
    return pids;
  }
}
