import { killTree } from "../kill-tree.ts";
import { peakRssOf, SeenProcesses, treeOf } from "../process-tree.ts";
import type { JobLimit } from "./job-limit.ts";
import { preferForOomKill, readText } from "./proc-files.ts";

/** Resident memory of one process from /proc/PID/status, in bytes (cheaper than pidusage, no ps). */
function rssOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readText(`/proc/${pid}/status`) ?? "");
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * The limit where the host offers no cgroup: polls the job's process tree,
 * sums its RSS, and kills the whole tree once the sum passes the limit. It
 * reads each process's VmHWM on every poll too, so its peak includes spikes
 * shorter than the poll interval.
 */
export class WatchdogLimit implements JobLimit {
  readonly kind = "watchdog" as const;
  private readonly seen = new SeenProcesses();
  private rootPid: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private peak = 0;
  private fired = false;
  private killing: Promise<number[]> | null = null;

  constructor(
    readonly limitBytes: number,
    private readonly intervalMs = 100,
    private readonly onOom: () => void = () => {},
  ) {}

  attach(pid: number): void {
    this.rootPid = pid;
    preferForOomKill(pid);
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    this.poll();
  }

  peakBytes(): number | null {
    this.poll();
    return this.peak > 0 ? this.peak : null;
  }

  oomKilled(): boolean {
    return this.fired;
  }

  pids(): number[] {
    return this.rootPid === null ? [] : [...new Set([...treeOf(this.rootPid), ...this.seen.alive()])];
  }

  async killAll(): Promise<void> {
    if (this.rootPid !== null) await killTree(this.rootPid, this.seen);
  }

  async dispose(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.killing;
    await this.killAll();
  }

  private poll(): void {
    if (this.rootPid === null || this.fired) return;
    const pids = this.pids();
    this.seen.remember(pids);
    let total = 0;
    for (const pid of pids) {
      total += rssOf(pid);
      this.peak = Math.max(this.peak, peakRssOf(pid) ?? 0);
    }
    this.peak = Math.max(this.peak, total);
    if (total > this.limitBytes) {
      this.fired = true;
      this.killing = killTree(this.rootPid, this.seen);
      this.onOom();
    }
  }
}
