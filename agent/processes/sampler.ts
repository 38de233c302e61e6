import type { Sample } from "../../protocol/messages.ts";
import { CLOCK_TICKS_PER_SECOND, ProcReader } from "./proc-reading.ts";
import { type SeenProcesses, treeOf } from "./process-tree.ts";
import { timeSamplePass } from "./sampler-cost.ts";

/** Processes and their kernel high-water marks (VmHWM), to read and reset. */
export interface ProcessMarks {
  /** The processes known (fresh false: possibly a second old, free) or listed now (fresh true). */
  pids(fresh: boolean): number[];
  highWaterMark(pid: number): number | null;
  /** Resets the mark to the process's current RSS; false if it is gone or not ours. */
  clear(pid: number): boolean;
}

/** Look for new processes (and read their high-water marks) at least this often. */
const WALK_PERIOD_MS = 1000;

/**
 * How often the processes' high-water marks are read where the job's cgroup counts its peak
 * (JobPids.groupCountsPeak). A mark only grows while its process lives, so a read every few
 * seconds, and one at stop(), loses only the mark of a process that spiked and ended in
 * between; the group's own mark counts that memory (anon, tmpfs, page cache it charged), and
 * the job's peak is the larger of the two. The reads were half the sampler's cost at 1 Hz:
 * /proc/PID/status is the dearest file the kernel formats (~15 µs, against ~3 for statm).
 */
export const MARKS_PERIOD_IN_CGROUP_MS = 5000;

/**
 * Samples a process tree's memory and CPU at a fixed interval and keeps the
 * true peak: the larger of the highest summed RSS and the highest single
 * process's kernel high-water mark (VmHWM), which catches spikes between
 * samples. CPU is the tree's CPU time over the interval, in % of one core.
 */
export class TreeSampler {
  private timer: NodeJS.Timeout | null = null;
  private peakBytes = 0;
  private lastSample: Sample | null = null;
  private ticks = 0;
  private pids: number[] = [];
  private lastAt: number | null = null;
  /** Each process's CPU time at the last sample, in clock ticks. */
  private readonly cpuSeen = new Map<number, number>();
  private readonly reader = new ProcReader();
  /** Whether the marks were read through `marks` since the last walk. */
  private marksTaken = false;
  /** Samples between walks, and between reads of the marks (a multiple of walkEvery). */
  private readonly walkEvery: number;
  private readonly marksEvery: number;

  constructor(
    private readonly seen: SeenProcesses,
    rootPid: number,
    private readonly intervalMs: number,
    private readonly onSample: (sample: Sample) => void,
    /** Lists the job's processes (see jobPidLister); by default, walks the tree from the root. */
    private readonly listPids: () => number[] = () => treeOf(rootPid),
    /** How often the marks are read when no peak window read them (rounded to whole walks). */
    marksPeriodMs = WALK_PERIOD_MS,
  ) {
    this.walkEvery = Math.max(1, Math.round(WALK_PERIOD_MS / intervalMs));
    this.marksEvery = this.walkEvery * Math.max(1, Math.round(marksPeriodMs / WALK_PERIOD_MS));
  }

  start(): void {
    this.timer = setInterval(() => timeSamplePass(() => this.sampleOnce()), this.intervalMs);
    timeSamplePass(() => this.sampleOnce());
  }

  /** Takes a last reading of the high-water marks (the tree may still exist) and stops. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.readHighWaterMarks(this.listPids());
    this.reader.close();
  }

  /** A high-water mark read elsewhere (before a per-test reset) that the job's peak must include. */
  observePeak(bytes: number): void {
    this.peakBytes = Math.max(this.peakBytes, bytes);
  }

  get peakRssBytes(): number | null {
    return this.peakBytes > 0 ? this.peakBytes : null;
  }

  /**
   * The high-water marks of the job's processes, read and reset through this sampler's open
   * files: for a per-test peak window. pids(false) are those found at the last walk (at most a
   * second old), for the frequent folds; pids(true) lists them afresh, for a test's edges.
   * Whoever reads marks here must hand them to observePeak (the sampler then skips its own read).
   */
  readonly marks: ProcessMarks = {
    pids: (fresh) => {
      if (!fresh) return this.pids;
      const pids = this.listPids();
      this.seen.remember(pids);
      return pids;
    },
    highWaterMark: (pid) => {
      this.marksTaken = true;
      return this.reader.highWaterMark(pid);
    },
    clear: (pid) => this.reader.clearHighWaterMark(pid),
  };

  get latest(): Sample | null {
    return this.lastSample;
  }

  private sampleOnce(): void {
    const now = Date.now();
    // The tree walk is the costly part; new processes are looked for every few samples, and the known
    // ones read on every sample (the job's cgroup or the kernel's marks cover what lives in between).
    const walk = this.ticks % this.walkEvery === 0;
    if (walk) {
      this.pids = this.listPids();
      this.seen.remember(this.pids);
      // High-water marks only grow while a process lives, so reading them less often loses nothing;
      // where a peak window read them since the last walk (and handed them to observePeak), again.
      if (!this.marksTaken && this.ticks % this.marksEvery === 0) this.readHighWaterMarks(this.pids);
      this.marksTaken = false;
    }
    this.ticks += 1;
    let rssBytes = 0;
    let cpuTicks = 0;
    let processes = 0;
    const alive: number[] = [];
    for (const pid of this.pids) {
      const reading = this.reader.sample(pid);
      if (!reading) continue;
      alive.push(pid);
      processes += 1;
      rssBytes += reading.rssBytes;
      const previous = this.cpuSeen.get(pid);
      if (previous !== undefined) cpuTicks += reading.cpuTicks - previous;
      this.cpuSeen.set(pid, reading.cpuTicks);
    }
    this.pids = alive;
    if (walk) {
      // A long job starts thousands of short-lived processes: forget those that ended.
      this.reader.forgetExcept(alive);
      if (this.cpuSeen.size > alive.length) {
        const living = new Set(alive);
        for (const pid of this.cpuSeen.keys()) if (!living.has(pid)) this.cpuSeen.delete(pid);
      }
    }
    this.peakBytes = Math.max(this.peakBytes, rssBytes);
    const elapsedSeconds = this.lastAt === null ? 0 : (now - this.lastAt) / 1000;
    this.lastAt = now;
    if (processes === 0 || this.timer === null) return;
    const cpuPercent = elapsedSeconds > 0 ? (cpuTicks / CLOCK_TICKS_PER_SECOND / elapsedSeconds) * 100 : 0;
    this.lastSample = { at: now, rssBytes, cpuPercent: Math.round(cpuPercent * 10) / 10, processes };
    this.onSample(this.lastSample);
  }

  private readHighWaterMarks(pids: number[]): void {
    for (const pid of pids) this.peakBytes = Math.max(this.peakBytes, this.reader.highWaterMark(pid) ?? 0);
  }
}
