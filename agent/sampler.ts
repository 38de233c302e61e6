import pidusage from "pidusage";
import type { Sample } from "../protocol/messages.ts";
import { peakRssOf, type SeenProcesses, treeOf } from "./process-tree.ts";

/**
 * Samples a process tree's memory and CPU at a fixed interval and keeps the
 * true peak: the larger of the highest summed RSS and the highest single
 * process's kernel high-water mark (VmHWM), which catches spikes between samples.
 */
export class TreeSampler {
  private timer: NodeJS.Timeout | null = null;
  private peakBytes = 0;
  private lastSample: Sample | null = null;
  private sampling = false;

  constructor(
    private readonly seen: SeenProcesses,
    private readonly rootPid: number,
    private readonly intervalMs: number,
    private readonly onSample: (sample: Sample) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sampleOnce(), this.intervalMs);
    void this.sampleOnce();
  }

  /** Takes a last reading of the high-water marks (the tree may still exist) and stops. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.readHighWaterMarks(treeOf(this.rootPid));
  }

  /** A high-water mark read elsewhere (before a per-test reset) that the job's peak must include. */
  observePeak(bytes: number): void {
    this.peakBytes = Math.max(this.peakBytes, bytes);
  }

  get peakRssBytes(): number | null {
    return this.peakBytes > 0 ? this.peakBytes : null;
  }

  get latest(): Sample | null {
    return this.lastSample;
  }

  private async sampleOnce(): Promise<void> {
    if (this.sampling) return; // a slow /proc read must not pile up readings
    this.sampling = true;
    try {
      const pids = treeOf(this.rootPid);
      if (pids.length === 0) return;
      this.seen.remember(pids);
      const readings = await Promise.allSettled(pids.map((pid) => pidusage(pid)));
      let rssBytes = 0;
      let cpuPercent = 0;
      let processes = 0;
      for (const reading of readings) {
        if (reading.status !== "fulfilled") continue; // the process ended meanwhile
        rssBytes += reading.value.memory;
        cpuPercent += reading.value.cpu;
        processes += 1;
      }
      this.readHighWaterMarks(pids);
      this.peakBytes = Math.max(this.peakBytes, rssBytes);
      if (processes === 0 || this.timer === null) return;
      this.lastSample = { at: Date.now(), rssBytes, cpuPercent: Math.round(cpuPercent * 10) / 10, processes };
      this.onSample(this.lastSample);
    } finally {
      this.sampling = false;
    }
  }

  private readHighWaterMarks(pids: number[]): void {
    for (const pid of pids) this.peakBytes = Math.max(this.peakBytes, peakRssOf(pid) ?? 0);
  }
}
