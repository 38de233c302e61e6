import { MemfarmError } from "../../protocol/errors.ts";
import { killTree } from "../processes/kill-tree.ts";
import { memoryOf } from "../processes/proc-reading.ts";
import { SeenProcesses, treeOf } from "../processes/process-tree.ts";
import type { JobLimit } from "./job-limit.ts";
import { preferForOomKill } from "./limit-files.ts";

/** Look for new processes in the tree on every this many polls (300 ms at the default 100 ms). */
const WALK_EVERY = 3;

/**
 * The limit where the host offers no cgroup: polls the job's process tree,
 * sums its resident memory from /proc/PID/status, and kills the whole tree once
 * the sum passes the limit. Each poll also reads every process's VmHWM, so the
 * peak includes spikes shorter than the poll interval (as long as the process
 * is still there at the next poll: a process's high-water mark goes with it).
 * A job allocating fast can pass the limit by what it allocates in one
 * interval before it is killed.
 */
export class WatchdogLimit implements JobLimit {
  readonly kind = "watchdog" as const;
  /** No group to join: the tree is found by walking it, early children included. */
  readonly joinFile = null;
  private seen = new SeenProcesses();
  private readonly roots: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private polls = 0;
  /** The job's processes as of the last walk, less those that ended since. */
  private known: number[] = [];
  private peak = 0;
  private fired = false;
  private killing: Promise<void> | null = null;
  private killsUnderWay = 0;
  private disposing: Promise<void> | null = null;

  constructor(
    readonly limitBytes: number,
    private readonly intervalMs: number,
    private readonly onOom: () => void,
  ) {}

  /** No group: nothing counts tmpfs, shared memory or children that exited, per test or per worker. */
  readonly workerGroupsDir = null;

  joined(pid: number): void {
    this.attach(pid);
  }

  openPeakCounter(): null {
    return null;
  }

  attach(pid: number): void {
    if (this.disposing !== null) throw new MemfarmError("limit_disposed", "the watchdog is already stopped");
    preferForOomKill(pid);
    this.roots.push(pid);
    this.seen.remember([pid]);
    if (this.timer === null) {
      this.timer = setInterval(() => this.poll(), this.intervalMs);
      this.timer.unref(); // the job's child process keeps the agent busy, not this poll
    }
    this.poll();
  }

  peakBytes(): number | null {
    if (this.disposing === null && this.killing === null) this.measure();
    return this.peak > 0 ? this.peak : null;
  }

  oomKilled(): boolean {
    return this.fired;
  }

  pids(): number[] {
    return [...new Set([...this.roots.flatMap((root) => treeOf(root)), ...this.seen.alive()])];
  }

  async killAll(): Promise<void> {
    this.killsUnderWay += 1;
    try {
      // killTree also kills the remembered processes that left the tree (reparented to init).
      for (const root of this.roots) await killTree(root, this.seen);
    } finally {
      this.killsUnderWay -= 1;
    }
  }

  dispose(): Promise<void> {
    this.disposing ??= this.teardown();
    return this.disposing;
  }

  private async teardown(): Promise<void> {
    this.stopPolling();
    this.measure(); // the high-water marks of whatever still runs
    await this.killing;
    await this.killAll();
  }

  private poll(): void {
    if (this.fired || this.disposing !== null) return;
    if (this.measure() <= this.limitBytes) return;
    this.fired = true;
    this.stopPolling();
    this.killing = (async () => {
      await this.killAll();
      try {
        this.onOom();
      } catch {
        // A failing callback must not stop the limit's cleanup or crash the agent.
      }
    })();
  }

  /**
   * Reads the tree once: keeps the peak (summed RSS, each VmHWM) and returns
   * the summed RSS. Walking the tree costs more than reading it, so new
   * processes are looked for on every WALK_EVERY-th poll; the known ones are
   * read on every poll.
   */
  private measure(): number {
    const walk = this.polls % WALK_EVERY === 0;
    this.polls += 1;
    if (walk) {
      this.known = this.pids();
      this.seen.remember(this.known);
    }
    let total = 0;
    const alive: number[] = [];
    for (const pid of this.known) {
      const memory = memoryOf(pid);
      if (memory === null) continue; // ended meanwhile
      alive.push(pid);
      total += memory.rss;
      this.peak = Math.max(this.peak, memory.hwm);
    }
    this.known = alive;
    this.peak = Math.max(this.peak, total);
    if (walk) this.forgetEnded();
    return total;
  }

  /**
   * A long job starts thousands of short processes (regrtest's subprocess
   * tests); checking each ever seen on every poll would grow without end, so
   * the list keeps only those that still run.
   */
  private forgetEnded(): void {
    if (this.killsUnderWay > 0) return; // killTree is using the list
    const kept = new SeenProcesses();
    kept.remember(this.seen.alive());
    this.seen = kept;
  }

  private stopPolling(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
