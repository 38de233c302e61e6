import { setTimeout as sleep } from "node:timers/promises";
import { processExists, type SeenProcesses, signalAll, treeOf } from "./process-tree.ts";

/**
 * Kills a job's whole process tree and confirms nothing is left.
 * The tree is first frozen with SIGSTOP, walking it again until no new
 * process appears, so nothing can fork away between the walk and the kill.
 * Returns the pids that survived (empty when the tree is gone).
 */
export async function killTree(rootPid: number, seen: SeenProcesses, deadlineMs = 5000): Promise<number[]> {
  const frozen = new Set<number>();
  for (let round = 0; round < 20; round += 1) {
    const pids = [...treeOf(rootPid), ...seen.alive()].filter((pid) => !frozen.has(pid));
    if (pids.length === 0) break;
    seen.remember(pids);
    signalAll(pids, "SIGSTOP");
    for (const pid of pids) frozen.add(pid);
  }
  signalAll([...frozen], "SIGKILL");
  const until = Date.now() + deadlineMs;
  let alive = [...frozen].filter(processExists);
  while (alive.length > 0 && Date.now() < until) {
    await sleep(25);
    alive = alive.filter(processExists);
  }
  return alive;
}
