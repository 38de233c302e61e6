/**
 * The memory limit of one job's processes. Three ways to enforce it, best
 * first: a cgroup v2 (production hosts), a cgroup v1 (older hosts, this VM),
 * or a watchdog that polls the tree's RSS and kills it past the limit.
 */
import type { PeakCounter } from "./peak-counter.ts";

export type LimitKind = "cgroup-v2" | "cgroup-v1" | "watchdog";
export type LimitMode = "auto" | "v2" | "v1" | "watchdog";

export interface JobLimit {
  readonly kind: LimitKind;
  readonly limitBytes: number;
  /**
   * The control file a process writes "0" (itself) to, to join the limit
   * before it runs anything (v1 `tasks`, v2 `cgroup.procs`; see launchInLimit);
   * null for the watchdog, which has no group to join.
   */
  readonly joinFile: string | null;
  /** Watches a process that joined by itself through joinFile (starts the OOM poll). */
  joined(pid: number): void;
  /**
   * Puts a running process (and so its future children) under the limit;
   * also raises its oom_score_adj to 1000 so the kernel OOM killer picks the
   * test, not the agent. A child the process forked before this call stays
   * outside a cgroup: jobs start through launchInLimit instead.
   */
  attach(pid: number): void;
  /**
   * The kernel's peak memory of the whole job: v2 memory.peak, v1
   * memory.max_usage_in_bytes; for the watchdog, the max over time of the
   * tree's summed RSS and each process's VmHWM.
   */
  peakBytes(): number | null;
  /**
   * A per-test high-water mark of the whole job (see PeakCounter), where the
   * kernel can reset one: cgroup v1 always, v2 on Linux 6.12+; null otherwise
   * (the watchdog, older v2), and the caller falls back to the processes' marks.
   * Readings taken before each reset still count toward peakBytes().
   */
  openPeakCounter(): PeakCounter | null;
  /**
   * Where each regrtest worker may make its own group (`worker-PID`, see
   * worker-launcher.ts) whose memory counts toward this limit, or null where
   * it cannot: the watchdog, v1 without memory.use_hierarchy, and v2, whose
   * job group could then hold no processes of its own (not done yet).
   */
  readonly workerGroupsDir: string | null;
  /** Whether the limit was hit and something was killed for it. */
  oomKilled(): boolean;
  /** Every pid in the job (cgroup.procs, or the watched tree). */
  pids(): number[];
  /** Kills everything in the job; resolves when none is left (bounded wait). */
  killAll(): Promise<void>;
  /** Stops polling, kills leftovers, removes the cgroup directory. Safe to call twice. */
  dispose(): Promise<void>;
}

export interface JobLimitOptions {
  /** The cgroup's directory name, e.g. the attempt id `job-42-1`: [A-Za-z0-9_-]+. */
  name: string;
  limitBytes: number;
  /** Override detection (tests): where the v2 / v1 memory hierarchy lives, or force the watchdog. */
  mode?: LimitMode;
  /** The directory job cgroups go in, under cgroup v2 (default: see detectCgroupSupport). */
  v2Root?: string;
  /** The directory job cgroups go in, under cgroup v1's memory controller (default /sys/fs/cgroup/memory/memfarm). */
  v1Root?: string;
  /** How often the watchdog reads the tree, and a cgroup its OOM counter (default 100). */
  watchdogIntervalMs?: number;
  /** Called once when the limit is hit (watchdog: after it killed the tree). */
  onOom?: () => void;
}
