import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import type { Readable } from "node:stream";
import { MemfarmError } from "../../protocol/errors.ts";
import type { JobLimit } from "./job-limit.ts";

/**
 * The launcher a job's command runs through when its limit is a cgroup: a
 * fixed shell program, never built from the job (the command and its
 * arguments are its positional parameters, run by `exec "$@"`). Spawning the
 * command and then moving its pid into the cgroup leaves a gap in which a
 * child it forks at once stays in the agent's cgroup, outside the limit. The
 * launcher closes the gap: it writes "0" (the writer itself) to the job
 * cgroup's join file (JobLimit.joinFile), which the agent opened for it as fd 3 (the path reaches it
 * neither as an argument nor in the environment the tests see), and only then
 * execs, so the command's first instruction and every process it ever forks
 * are in the cgroup. The same pid goes on through exec, so the agent's view
 * of the process (sampler, kill, records) does not change.
 *
 * - oom_score_adj 1000 first, inherited by the whole tree: the kernel's OOM
 *   killer picks the tests, not the agent (best effort, as before).
 * - A failed join is reported on fd 4, a pipe back to the agent, and the
 *   command never runs; exit 125 is only for a person reading `ps`. The agent
 *   reads fd 4, not the exit code: any exit code is the tests' own.
 * - Both fds are closed before exec: the tests must not inherit a handle on
 *   their own cgroup, and the agent sees fd 4's end at the exec.
 * - One `echo` builtin: no fork happens in the launcher, so nothing runs
 *   outside the cgroup even for a moment. dash and bash (either may be
 *   /bin/sh) both fail `echo` on a refused write.
 */
export const LAUNCHER_SCRIPT = [
  "{ echo 1000 >/proc/self/oom_score_adj; } 2>/dev/null",
  'echo 0 2>&4 >&3 || { echo "the kernel refused the write" >&4; exit 125; }',
  "exec 3>&- 4>&-",
  'exec "$@"',
].join("\n");
export const LAUNCHER_SHELL = "/bin/sh";
/** The launcher's $0, as it shows in `ps` until the exec. */
const LAUNCHER_NAME = "memfarm-join-cgroup";

export interface LaunchOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface Launched {
  child: ChildProcess;
  stdout: Readable;
  stderr: Readable;
  /**
   * Resolves once the command runs (or never will): null when it is inside
   * the limit, else why it is not; then it never ran.
   */
  joinProblem: Promise<string | null>;
}

/**
 * Starts `command args` (no shell, its own process group, stdin closed,
 * stdout and stderr piped) inside `limit` from its first instruction: through
 * the launcher when the limit is a cgroup; a watchdog has nothing to join and
 * attaches the pid after the spawn (it walks the tree, so early children are
 * found anyway). Throws when the cgroup cannot be opened for joining.
 */
export function launchInLimit(
  limit: JobLimit | null,
  command: string,
  args: string[],
  options: LaunchOptions,
): Launched {
  const common = { cwd: options.cwd, env: options.env, shell: false, detached: true } as const;
  const joinFile = limit?.joinFile ?? null;
  if (limit === null || joinFile === null) {
    const child = spawn(command, args, { ...common, stdio: ["ignore", "pipe", "pipe"] });
    let joinProblem: string | null = null;
    if (child.pid !== undefined && limit !== null) {
      try {
        limit.attach(child.pid);
      } catch (thrown) {
        // Never let tests run without their limit: stop them at once.
        joinProblem = thrown instanceof Error ? thrown.message : String(thrown);
        child.kill("SIGKILL");
      }
    }
    return { child, ...outputOf(child), joinProblem: Promise.resolve(joinProblem) };
  }
  let procs: number;
  try {
    procs = openSync(joinFile, "w");
  } catch (thrown) {
    const code = (thrown as NodeJS.ErrnoException).code ?? String(thrown);
    throw new MemfarmError(
      "cgroup_attach_failed",
      `could not open ${joinFile} to join the job's cgroup (${code})`,
    );
  }
  let child: ChildProcess;
  try {
    child = spawn(LAUNCHER_SHELL, ["-c", LAUNCHER_SCRIPT, LAUNCHER_NAME, command, ...args], {
      ...common,
      stdio: ["ignore", "pipe", "pipe", procs, "pipe"],
    });
  } finally {
    closeSync(procs); // the child has its own copy; the agent's must not keep the file open
  }
  const status = child.stdio[4] as Readable | null;
  const joinProblem = new Promise<string | null>((resolve) => {
    if (status === null) return resolve(null);
    let text = "";
    status.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    const done = () => {
      const said = text.trim().split("\n").filter(Boolean).join("; ");
      resolve(said === "" ? null : `could not join the job's cgroup through ${joinFile}: ${said}`);
    };
    status.once("error", done);
    status.once("close", done);
  });
  if (child.pid !== undefined) limit.joined(child.pid);
  return { child, ...outputOf(child), joinProblem };
}

function outputOf(child: ChildProcess): { stdout: Readable; stderr: Readable } {
  // Both are "pipe" in every spawn above, so node always makes them.
  if (child.stdout === null || child.stderr === null) throw new Error("spawn made no stdout or stderr pipe");
  return { stdout: child.stdout, stderr: child.stderr };
}
