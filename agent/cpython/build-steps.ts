import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { gitEnv } from "../../protocol/git-env.ts";
import { BuildError } from "./build-error.ts";
import { type CommandIo, runStep } from "./run-command.ts";

/**
 * Puts `commit` from the mirror into `dir` as a detached worktree. A worktree
 * rather than a bare export, so the tree has a `.git` and CPython's build
 * records the commit (`sys._git`, `python -VV`) as in a normal checkout.
 */
export async function checkOut(
  mirror: string,
  commit: string,
  dir: string,
  options: { allowLocal: boolean; timeoutMs: number; io: CommandIo; cwd: string },
): Promise<void> {
  const spec = (step: string, args: string[]) => ({
    step,
    command: "git",
    // The mirror is ours, but a global core.hooksPath could still run a post-checkout hook.
    args: ["--git-dir", mirror, "-c", "core.hooksPath=/dev/null", ...args],
    cwd: options.cwd,
    env: gitEnv(options.allowLocal),
    timeoutMs: options.timeoutMs,
    failureCode: "checkout_failed" as const,
  });
  // Forgets worktrees whose directory is gone (a build discarded after a failure), so the path is free again.
  await runStep(spec("git worktree prune", ["worktree", "prune"]), options.io);
  await runStep(spec("git worktree add", ["worktree", "add", "--detach", "--", dir, commit]), options.io);
}

/**
 * `./configure FLAGS` then `make -jCORES` in `dir`, both within one time
 * budget. Returns the interpreter the build left: `dir/python`.
 */
export async function configureAndMake(
  dir: string,
  configureFlags: string[],
  options: { cores: number; timeoutMs: number; io: CommandIo },
): Promise<string> {
  const deadline = Date.now() + options.timeoutMs;
  const env = buildEnv();
  const step = (name: string, command: string, args: string[]) => ({
    step: name,
    command,
    args,
    cwd: dir,
    env,
    timeoutMs: Math.max(1, deadline - Date.now()),
    failureCode: "build_failed" as const,
  });
  await runStep(step("configure", join(dir, "configure"), configureFlags), options.io);
  await runStep(step("make", "make", [`-j${options.cores}`]), options.io);
  const python = join(dir, "python");
  try {
    await access(python, constants.X_OK);
  } catch {
    throw new BuildError("build_failed", "make", `it exited 0 but left no executable ${python}`);
  }
  return python;
}

/** The agent's environment without make's own variables, which would change how the build runs. */
export function buildEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ["MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES", "GNUMAKEFLAGS"]) delete env[name];
  return env;
}
