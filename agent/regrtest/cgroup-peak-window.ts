import type { PeakMeasure } from "../../protocol/messages.ts";
import type { PeakCounter } from "../limits/peak-counter.ts";
import type { PeakWindow } from "./test-timeline.ts";

/**
 * Per-test peaks from the job cgroup's own high-water mark (sequential runs):
 * it counts every process of the job, children that exited, tmpfs and shared
 * memory, which the processes' VmHWM (ProcessTreePeakWindow) cannot. Same
 * design as that window: the reset races the test (the agent sees a test
 * start only when it reads the progress line), so `fold()`, every sample
 * interval, moves the mark into the window and starts it over, and a reset
 * credits the test with the last fold's mark and the current one (about two
 * intervals before its start), never less than it used. The counter hands
 * each reading it erases to the job's peak (PeakCounter), so that loses nothing.
 */
export class CgroupPeakWindow implements PeakWindow {
  readonly measuredBy: PeakMeasure = "cgroup";
  /** The window's peak folded out of the counter since the last reset. */
  private folded: number | null = null;
  /** What the last fold took from the counter. */
  private lastFold: number | null = null;

  constructor(private readonly counter: PeakCounter) {}

  reset(): void {
    this.folded = maxOf(this.lastFold, this.take());
    this.lastFold = null;
  }

  fold(): void {
    this.lastFold = this.take();
    this.folded = maxOf(this.folded, this.lastFold);
  }

  peak(): number | null {
    return maxOf(this.folded, this.counter.read());
  }

  close(): void {
    this.counter.close();
  }

  private take(): number | null {
    const mark = this.counter.read();
    this.counter.reset();
    return mark;
  }
}

function maxOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
