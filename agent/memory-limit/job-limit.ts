/**
 * The memory limit of one job's process tree. Three ways to enforce it, best
 * first: a cgroup v2 (production hosts), a cgroup v1 (older hosts), or a
 * watchdog that polls the tree's RSS and kills it past the limit (no cgroup).
 */
export type LimitKind = "cgroup-v2" | "cgroup-v1" | "watchdog";
export type LimitMode = "auto" | "v2" | "v1" | "watchdog";

export interface JobLimit {
  readonly kind: LimitKind;
  readonly limitBytes: number;
  /**
   * Puts a just-spawned process, and so its future children, under the limit,
   * and raises its oom_score_adj so the kernel's OOM killer picks the test,
   * not the agent.
   */
  attach(pid: number): void;
  /** The kernel's peak memory of the whole job (cgroup peak counter, or the watchdog's high-water marks). */
  peakBytes(): number | null;
  /** Whether the limit was hit and the job's processes were killed for it. */
  oomKilled(): boolean;
  /** Every process of the job. */
  pids(): number[];
  /** Kills everything of the job and waits (bounded) until nothing is left. */
  killAll(): Promise<void>;
  /** Stops watching, kills leftovers, removes the cgroup. Safe to call twice. */
  dispose(): Promise<void>;
}
