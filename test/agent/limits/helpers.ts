import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const PYTHON = "/usr/bin/python3";
export const MiB = 1024 * 1024;

export interface Ending {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const started = new Set<number>();

/**
 * A Python child in its own process group (so cleanup can kill its children
 * too). It waits for a line on stdin before running `body`: the test attaches
 * it to a limit first, so none of what it allocates escapes the limit.
 */
export class PythonChild {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly ended: Promise<Ending>;
  private readonly lines: string[] = [];
  private stderr = "";

  constructor(body: string) {
    const script = `import sys, time\nsys.stdin.readline()\n${body}`;
    this.child = spawn(PYTHON, ["-c", script], { detached: true, stdio: ["pipe", "pipe", "pipe"] });
    if (this.child.pid === undefined) throw new Error(`could not start ${PYTHON}`);
    this.pid = this.child.pid;
    started.add(this.pid);
    this.ended = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        started.delete(this.pid);
        resolve({ code, signal });
      });
    });
    let partial = "";
    this.child.stdout?.on("data", (chunk: Buffer) => {
      const parts = (partial + chunk.toString("utf8")).split("\n");
      partial = parts.pop() ?? "";
      this.lines.push(...parts);
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString("utf8");
    });
  }

  /** Lets the script run. */
  go(): void {
    this.child.stdin?.end("go\n");
  }

  /** The next line the script prints (it must flush). */
  async line(timeoutMs = 10_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (Date.now() > until)
        throw new Error(`no output from ${this.pid} in ${timeoutMs} ms: ${this.stderr}`);
      await sleep(10);
    }
    return this.lines.shift() as string;
  }

  async ending(timeoutMs = 20_000): Promise<Ending> {
    // Unreferenced: a pending timer must not keep the test process alive after the child ended.
    const timer = sleep(timeoutMs, "timeout" as const, { ref: false });
    const result = await Promise.race([this.ended, timer]);
    if (result === "timeout") throw new Error(`process ${this.pid} still runs after ${timeoutMs} ms`);
    return result;
  }

  get errors(): string {
    return this.stderr;
  }
}

/** Kills every child the tests started and has not yet seen end, with their process groups. */
export function killStarted(): void {
  for (const pid of started) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }
}

/** Waits until `check` holds, polling; false if it never did. */
export async function eventually(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) return false;
    await sleep(10);
  }
  return true;
}

/**
 * A directory that looks like a cgroup v2 parent with the memory controller,
 * for the v2 code on hosts without one. Writes to its files move nothing:
 * tests read what was written and write what the kernel would report.
 */
export function fakeV2Root(files: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), "memfarm-fake-v2-"));
  const defaults = { "cgroup.controllers": "cpu io memory pids\n", "cgroup.subtree_control": "memory\n" };
  for (const [file, text] of Object.entries({ ...defaults, ...files })) writeFileSync(join(root, file), text);
  return root;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
