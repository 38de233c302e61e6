import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PACKAGE_ROOT } from "../../coordinator/paths.ts";
import { allPids, isLive, readProcStat } from "../../protocol/proc-stat.ts";

export const CLI = join(PACKAGE_ROOT, "dist", "cli", "main.js");

/**
 * The CLI's config home for this test process: `up` and `coordinator` save a profile there, which
 * must neither land in the home of whoever runs the tests nor send another test's commands to a
 * farm long gone. A test that looks at profiles passes XDG_CONFIG_HOME of its own.
 */
const CONFIG_HOME = mkdtempSync(join(tmpdir(), "memfarm-test-config-"));
process.once("exit", () => rmSync(CONFIG_HOME, { recursive: true, force: true }));
const cliEnv = (env: NodeJS.ProcessEnv) => ({ ...process.env, XDG_CONFIG_HOME: CONFIG_HOME, ...env });

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 180_000): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: cliEnv(env), timeout: timeoutMs },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A long-running CLI command (up, coordinator, agent) and its output so far. */
export class CliProcess {
  readonly child: ChildProcess;
  output = "";
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [CLI, ...args], {
      env: cliEnv(env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.on("data", (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  /** Waits until the output matches, and returns the match. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.output.match(pattern);
      if (match) return match;
      if (this.child.exitCode !== null)
        throw new Error(`exited with ${this.child.exitCode} before ${pattern}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(signal: NodeJS.Signals = "SIGINT"): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** Pids of running processes whose command line contains `text` (e.g. a test's data dir). */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmdline.includes(text) && isLive(readProcStat(pid))) pids.push(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/**
 * Waits for a coordinator started with JSON logs to be ready and to handle Ctrl-C (it does once it
 * has printed the dashboard's address; before, a signal kills it at once), and returns its
 * "coordinator ready" log record.
 */
export async function readyRecord(coordinator: CliProcess): Promise<Record<string, unknown> | undefined> {
  await coordinator.waitFor(/"msg":"coordinator ready"/, 60_000);
  await coordinator.waitFor(/Dashboard:/, 60_000);
  return coordinator.output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((record) => record.msg === "coordinator ready");
}
