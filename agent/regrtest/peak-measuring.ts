import type { JobLimit } from "../limits/index.ts";
import { LAUNCHER_SHELL } from "../limits/launch-in-limit.ts";
import { WORKER_GROUPS_ENV, workerLauncherPath } from "../limits/worker-launcher.ts";
import type { SeenProcesses } from "../processes/process-tree.ts";
import type { ProcessMarks } from "../processes/sampler.ts";
import { CgroupPeakWindow } from "./cgroup-peak-window.ts";
import { ProcessTreePeakWindow } from "./peak-window.ts";
import type { PeakWindow } from "./test-timeline.ts";
import { WorkerPeaks } from "./worker-peaks.ts";

/** A per-test window that folds every sample interval and is closed when the run ends. */
export type FoldingWindow = PeakWindow & { fold(): void; close?(): void };

/**
 * The best per-test window of a sequential run: the job cgroup's own mark
 * where the kernel can reset it (counts children that exited, tmpfs, shared
 * memory), else the processes' marks, labelled with what they miss.
 */
export function sequentialWindow(
  limit: JobLimit | null,
  rootPid: number,
  seen: SeenProcesses,
  keep: (bytes: number) => void,
  marks: ProcessMarks,
): FoldingWindow {
  const counter = limit?.openPeakCounter() ?? null;
  if (counter !== null) return new CgroupPeakWindow(counter);
  const noCgroup = limit === null || limit.joinFile === null;
  return new ProcessTreePeakWindow(
    rootPid,
    seen,
    keep,
    noCgroup ? "process-tree-no-shm" : "process-tree",
    marks,
  );
}

/** What a -j run changes so each worker gets a cgroup of its own (see worker-launcher.ts). */
export interface WorkerGroups {
  args: string[];
  env: NodeJS.ProcessEnv;
  peaks: WorkerPeaks;
}

/**
 * Regrtest options that `--python` changes besides the worker's command:
 * CPython 3.11-3.14 skip re-running failed tests with it ("not supported
 * with --python host runner option"), and 3.13+'s --fast-ci/--slow-ci (which
 * re-run) then keep PYTHON* variables (no -E). With these, workers share the
 * job's group and their figure is regrtest's own.
 */
const CHANGED_BY_PYTHON = /^(-w|--verbose2|--rerun|--fast-ci|--slow-ci|-p|--python)(=|$)/;

/**
 * `--python "/bin/sh LAUNCHER PYTHON"` for a -j run whose limit lets workers
 * have their own groups; null (workers share the job's group) when it does
 * not, or when the option would change the run (CHANGED_BY_PYTHON), or when
 * the arguments end their options with `--` (the option could not follow).
 */
export function workerGroups(limit: JobLimit | null, python: string, args: string[]): WorkerGroups | null {
  const dir = limit?.workerGroupsDir ?? null;
  if (dir === null || args.includes("--") || args.some((arg) => CHANGED_BY_PYTHON.test(arg))) return null;
  // regrtest shlex-splits the value; no shell ever sees it.
  const command = [LAUNCHER_SHELL, workerLauncherPath(), python].map(shlexQuote).join(" ");
  return {
    args: [...args, "--python", command],
    env: { [WORKER_GROUPS_ENV]: dir },
    peaks: new WorkerPeaks(dir),
  };
}

/** Quotes one word for Python's shlex.split. */
function shlexQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'"'"'`)}'`;
}
