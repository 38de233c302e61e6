import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../protocol/logger.ts";
import { startTimeOf } from "./proc-reading.ts";
import { signalAll, treeOf } from "./process-tree.ts";

/**
 * A record of each running test interpreter, so that an agent that was killed (SIGKILL, OOM, a
 * crash) does not leave its jobs' process trees running after it comes back: each test runs in a
 * process group of its own and outlives the agent. One file per attempt in `DIR`, holding the
 * interpreter's pid and its start time (so a reused pid is not mistaken for it).
 */
export class JobProcessRecords {
  constructor(private readonly dir: string) {}

  record(attemptId: string, pid: number): void {
    const started = startTimeOf(pid);
    if (started === null) return;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(this.dir, attemptId), `${pid} ${started}\n`);
  }

  forget(attemptId: string): void {
    rmSync(join(this.dir, attemptId), { force: true });
  }

  /**
   * Kills the process trees that an earlier agent process left running, and clears the records.
   * Called at start, before the agent takes any work. Returns the attempts it found still running.
   */
  killLeftovers(log: Logger): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const killed: string[] = [];
    for (const attemptId of names) {
      const file = join(this.dir, attemptId);
      const [pid, started] = readFileSync(file, "utf8").trim().split(" ").map(Number);
      if (pid && started !== undefined && startTimeOf(pid) === started) {
        const tree = treeOf(pid);
        signalAll([-pid], "SIGKILL"); // the whole process group the interpreter leads
        signalAll(tree, "SIGKILL"); // and anything that left the group
        log.warn("killed a test left running by an earlier agent process", {
          attempt: attemptId,
          pid,
          processes: tree.length,
        });
        killed.push(attemptId);
      }
      rmSync(file, { force: true });
    }
    return killed;
  }
}
