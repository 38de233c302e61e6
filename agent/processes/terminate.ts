import { setTimeout as sleep } from "node:timers/promises";
import { killTree } from "./kill-tree.ts";
import { processExists, type SeenProcesses, signalAll, treeOf } from "./process-tree.ts";

/**
 * Ends a job's process tree the polite way first: SIGTERM to every process,
 * up to `graceMs` for them to exit (regrtest cleans up its temporary
 * directories on SIGTERM), then SIGKILL to whatever is left (frozen first, so
 * nothing forks away). `extraPids` names processes found another way, such as
 * the job's cgroup. Returns the pids still alive at the end (empty when the
 * tree is gone).
 */
export async function terminateTree(
  rootPid: number,
  seen: SeenProcesses,
  graceMs: number,
  extraPids: () => number[] = () => [],
): Promise<number[]> {
  const everyone = () => [...new Set([...treeOf(rootPid), ...seen.alive(), ...extraPids()])];
  const first = everyone();
  seen.remember(first);
  signalAll(first, "SIGTERM");
  const until = Date.now() + graceMs;
  while (Date.now() < until && everyone().some(processExists)) await sleep(50);
  const survivors = await killTree(rootPid, seen);
  const extra = extraPids().filter(processExists);
  signalAll(extra, "SIGKILL");
  return [...new Set([...survivors, ...extra])];
}
