import { readdirSync, readFileSync } from "node:fs";
import { isLive, readProcStat } from "../../protocol/proc-stat.ts";
import { startTimeOf } from "./proc-reading.ts";

/**
 * The process tree under a pid, read from /proc. pidusage samples only the
 * pids it is given and regrtest's `-j` workers are children, so the agent
 * finds the whole tree itself.
 */
export function descendantsOf(rootPid: number): number[] {
  const found: number[] = [];
  const pending = [rootPid];
  while (pending.length > 0) {
    const pid = pending.pop() as number;
    for (const child of childrenOf(pid)) {
      if (!found.includes(child)) {
        found.push(child);
        pending.push(child);
      }
    }
  }
  return found;
}

/** The root and all its descendants that still exist. */
export function treeOf(rootPid: number): number[] {
  return processExists(rootPid) ? [rootPid, ...descendantsOf(rootPid)] : descendantsOf(rootPid);
}

function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const task of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8");
      for (const word of text.split(" ")) if (word.trim() !== "") children.push(Number(word));
    } catch {
      // The task ended between the listing and the read.
    }
  }
  return children;
}

/**
 * Every process seen in a job's tree, by pid and start time. regrtest's `-j`
 * workers start their own sessions, and a worker whose parent died is
 * reparented to init, out of the tree: this list still finds it, and the start
 * time keeps a reused pid from being mistaken for it.
 */
export class SeenProcesses {
  private readonly startTimes = new Map<number, number>();

  remember(pids: number[]): void {
    for (const pid of pids) {
      if (this.startTimes.has(pid)) continue;
      const started = startTimeOf(pid);
      if (started !== null) this.startTimes.set(pid, started);
    }
  }

  /** The remembered processes that still run. */
  alive(): number[] {
    return [...this.startTimes]
      .filter(([pid, started]) => {
        const stat = readProcStat(pid);
        return isLive(stat) && stat.startTicks === started;
      })
      .map(([pid]) => pid);
  }
}

/** False for a pid that is gone or a zombie (exited, not yet reaped). */
export function processExists(pid: number): boolean {
  return isLive(readProcStat(pid));
}

/** Sends a signal to every pid, ignoring those that are already gone. */
export function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}
