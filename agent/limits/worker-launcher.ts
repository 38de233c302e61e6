import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The environment variable that tells the worker launcher where the job's
 * cgroup is (JobLimit.workerGroupsDir): set for regrtest's main process only,
 * and unset by the launcher before it execs a worker, so no test sees it.
 */
export const WORKER_GROUPS_ENV = "MEMFARM_WORKER_CGROUPS";

/**
 * Runs one regrtest worker in a cgroup of its own inside the job's, so a test
 * file's peak under -j is its worker's: children that exited, tmpfs and
 * shared memory included. regrtest starts each worker as `PYTHON_CMD ... -m
 * test.regrtest --worker-args JSON` when given `--python PYTHON_CMD`; the
 * agent passes `/bin/sh LAUNCHER REAL_PYTHON`. A fixed program: the job's
 * cgroup comes from the environment the agent set, never from the job; the
 * worker's arguments only ever reach `exec "$@"`.
 *
 * It makes `worker-$$` (its own pid, which the exec keeps), moves itself in
 * (v1 `tasks`: the shell is single-threaded, see LAUNCHER_SCRIPT in
 * launch-in-limit.ts; else `cgroup.procs`), then execs the worker. It is
 * inside the job's group all along, so the limit holds even where making its
 * own group fails (the worker then runs in the job's group, and its figure is
 * labelled as the fallback's). `mkdir` forks a child: it too runs inside the job's group.
 */
export const WORKER_LAUNCHER_SCRIPT = [
  `groups="\${${WORKER_GROUPS_ENV}:-}"`,
  `unset ${WORKER_GROUPS_ENV}`,
  'if [ -n "$groups" ]; then',
  '  group="$groups/worker-$$"',
  '  { mkdir "$group" && { echo 0 >"$group/tasks" || echo 0 >"$group/cgroup.procs"; }; } 2>/dev/null ||',
  '    echo "memfarm: this worker could not get a cgroup of its own ($group); its peak is the fallback figure" >&2',
  "fi",
  'exec "$@"',
  "",
].join("\n");

let written: string | null = null;

/** The launcher's file, written once per agent into a directory of its own (mkdtemp: no one else's file). */
export function workerLauncherPath(): string {
  // Written again if something (a tmp cleaner, on an agent up for weeks) removed it: -j workers need it.
  if (written === null || !existsSync(written)) {
    const dir = mkdtempSync(join(tmpdir(), "memfarm-worker-launcher-"));
    // Gone with the agent: its jobs' workers are gone by then too.
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "join-worker-cgroup.sh");
    writeFileSync(path, WORKER_LAUNCHER_SCRIPT);
    chmodSync(path, 0o555);
    written = path;
  }
  return written;
}

/** A worker's group as the launcher names it. */
export function isWorkerGroup(name: string): boolean {
  return /^worker-\d+$/.test(name);
}
