import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { coerceError } from "../../protocol/errors.ts";
import type { LogLine, Sample, TestRecord } from "../../protocol/messages.ts";
import type { JobLimit } from "../limits/index.ts";
import { type Launched, launchInLimit } from "../limits/launch-in-limit.ts";
import { jobPidLister } from "../processes/job-pids.ts";
import { type SeenProcesses, signalAll, treeOf } from "../processes/process-tree.ts";
import { MARKS_PERIOD_IN_CGROUP_MS, TreeSampler } from "../processes/sampler.ts";
import { terminateTree } from "../processes/terminate.ts";
import { type JunitCase, junitXmlPath, parseJunitXml } from "./junit-xml.ts";
import { LineSplitter } from "./line-splitter.ts";
import { type FoldingWindow, sequentialWindow, workerGroups } from "./peak-measuring.ts";
import { RegrtestOutputReader, type RegrtestSummary } from "./regrtest-output.ts";
import { TestTimeline } from "./test-timeline.ts";

/** The shortest interval between two per-test peak folds (see ProcessTreePeakWindow). */
const MIN_FOLD_INTERVAL_MS = 1000;

export interface RegrtestRunOptions {
  python: string;
  args: string[];
  cwd: string;
  timeoutSeconds: number;
  /** 0: no limit on silence. */
  noOutputTimeoutSeconds: number;
  sampleIntervalMs: number;
  killGraceMs: number;
  /** The job's memory limit (cgroup or watchdog), created by the caller; null runs unlimited. */
  limit: JobLimit | null;
  /** Aborted when the job is canceled or the agent stops. */
  signal: AbortSignal;
  onLog: (line: LogLine) => void;
  onSample: (sample: Sample) => void;
  onTests: (records: TestRecord[]) => void;
  /** Called once the interpreter runs, with its pid; `seen` collects every process of the job. */
  onStarted: (pid: number) => void;
  seen: SeenProcesses;
}

export interface RegrtestEnding {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  spawnError: Error | null;
  summary: RegrtestSummary;
  /** The kernel's peak: the job's cgroup where there is one, else the tree's high-water marks. */
  peakRssBytes: number | null;
  oomKilled: boolean;
  timedOut: "wall-clock" | "no-output" | null;
  stoppedBySignal: boolean;
  /** Processes that survived every kill (should be none). */
  survivors: number[];
}

/**
 * Runs `python ARGS` once and supervises it: an argument array and no shell,
 * its own process group (a Ctrl-C for the agent must not reach the tests),
 * inside the memory limit from its first instruction (launchInLimit), the log read line by
 * line, the tree sampled, tests timed, and the wall-clock and no-output limits
 * enforced. Whatever way it ends, the whole tree is gone when this resolves.
 */
export async function runRegrtest(options: RegrtestRunOptions): Promise<RegrtestEnding> {
  const reader = new RegrtestOutputReader();
  const sequential = !options.args.some((arg) => /^(-j|--use-mp|--multiprocess)/.test(arg));
  let window: FoldingWindow | null = null;
  // Under -j each worker in a cgroup of its own where the limit allows (see workerGroups).
  const workers = sequential ? null : workerGroups(options.limit, options.python, options.args);
  const timeline = new TestTimeline({
    sequential,
    window: {
      reset: () => window?.reset(),
      peak: () => window?.peak() ?? null,
      get measuredBy() {
        return window?.measuredBy;
      },
    },
    workerPeak: workers ? (test) => workers.peaks.peakOf(test) : undefined,
  });
  let lastOutputAt = Date.now();

  let launched: Launched;
  try {
    launched = launchInLimit(options.limit, options.python, workers?.args ?? options.args, {
      cwd: options.cwd,
      env: { ...process.env, PYTHONUNBUFFERED: "1", TERM: "dumb", ...workers?.env },
    });
  } catch (thrown) {
    workers?.peaks.close();
    return notStarted(coerceError(thrown), reader.get());
  }
  const { child } = launched;
  const rootPid = child.pid;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error: Error | null }>(
    (resolve) => {
      child.once("error", (error) => resolve({ code: null, signal: null, error }));
      child.once("exit", (code, signal) => resolve({ code, signal, error: null }));
    },
  );
  const streamsClosed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  for (const stream of ["stdout", "stderr"] as const) {
    const splitter = new LineSplitter(
      (text) => {
        reader.read(text);
        timeline.read(text);
        options.onLog({ stream, text });
        const finished = timeline.takeCompleted();
        if (finished.length > 0) options.onTests(finished);
      },
      (partial) => timeline.readPartial(partial),
    );
    launched[stream].on("data", (chunk: Buffer) => {
      lastOutputAt = Date.now();
      splitter.push(chunk);
    });
    launched[stream].on("end", () => splitter.end());
  }

  const seen = options.seen;
  let sampler: TreeSampler | null = null;
  if (rootPid !== undefined) {
    const jobPids = jobPidLister(rootPid, options.limit);
    const marksPeriodMs = jobPids.groupCountsPeak ? MARKS_PERIOD_IN_CGROUP_MS : undefined;
    sampler = new TreeSampler(
      seen,
      rootPid,
      options.sampleIntervalMs,
      options.onSample,
      jobPids.list,
      marksPeriodMs,
    );
    const tracker = sampler;
    if (sequential)
      window = sequentialWindow(
        options.limit,
        rootPid,
        seen,
        (bytes) => tracker.observePeak(bytes),
        tracker.marks,
      );
    sampler.start();
    options.onStarted(rootPid);
  }
  // Only sequential runs have per-test windows (see ProcessTreePeakWindow for why they fold). A
  // process-tree fold reads and resets every process's mark, and at 4 Hz on a 50-process tree cost
  // more than all else the agent does: at most once a second (the agent's default sample interval).
  // A cgroup's fold is one file, so it keeps the sample interval.
  const foldEveryMs =
    window?.measuredBy === "cgroup"
      ? options.sampleIntervalMs
      : Math.max(options.sampleIntervalMs, MIN_FOLD_INTERVAL_MS);
  const folding = window ? setInterval(() => window?.fold(), foldEveryMs) : null;

  let timedOut: RegrtestEnding["timedOut"] = null;
  let stopping: Promise<number[]> | null = null;
  const stop = (why: string) => {
    if (rootPid === undefined || stopping) return;
    options.onLog({ stream: "system", text: why });
    stopping = terminateTree(rootPid, seen, options.killGraceMs, () => options.limit?.pids() ?? []);
  };
  const onAbort = () => stop("stopping the tests (SIGTERM, then SIGKILL after the grace period)");
  options.signal.addEventListener("abort", onAbort, { once: true });
  if (options.signal.aborted) onAbort();
  const wallClock = setTimeout(() => {
    timedOut = "wall-clock";
    stop(`wall-clock limit of ${options.timeoutSeconds} s reached: stopping the tests`);
  }, options.timeoutSeconds * 1000);
  const silence =
    options.noOutputTimeoutSeconds > 0
      ? setInterval(() => {
          if (Date.now() - lastOutputAt < options.noOutputTimeoutSeconds * 1000 || timedOut) return;
          timedOut = "no-output";
          stop(`no output for ${options.noOutputTimeoutSeconds} s: the tests look hung, stopping them`);
        }, 1000)
      : null;

  const exit = await exited;
  // Resolved by now unless the launcher is still exiting: it closes fd 4 before it execs or exits.
  const joinProblem = await Promise.race([launched.joinProblem, sleep(2000, null, { ref: false })]);
  clearTimeout(wallClock);
  if (silence) clearInterval(silence);
  if (folding) clearInterval(folding);
  options.signal.removeEventListener("abort", onAbort);
  await sampler?.stop();
  // regrtest's -j workers run in their own sessions and may outlive the main process.
  const survivors =
    rootPid === undefined
      ? []
      : await (stopping ?? terminateTree(rootPid, seen, 0, () => options.limit?.pids() ?? []));
  await options.limit?.killAll();
  await Promise.race([streamsClosed, new Promise((resolve) => setTimeout(resolve, 2000))]);
  const summary = reader.get();
  const lastTests = [...timeline.finish(summary), ...timeline.enrich(await readJunitXml(options))];
  if (lastTests.length > 0) options.onTests(lastTests);
  window?.close?.();
  workers?.peaks.close();
  const kernelPeak = options.limit?.peakBytes() ?? null;
  return {
    exitCode: exit.code,
    signal: exit.signal,
    spawnError: joinProblem === null ? exit.error : new Error(joinProblem),
    summary,
    peakRssBytes: maxKnown(kernelPeak, sampler?.peakRssBytes ?? null),
    oomKilled: options.limit?.oomKilled() ?? false,
    timedOut,
    stoppedBySignal: options.signal.aborted,
    survivors,
  };
}

/** The suite's JUnit XML, if it asked for one and regrtest wrote it (it does not when a run crashes). */
async function readJunitXml(options: RegrtestRunOptions): Promise<JunitCase[]> {
  const path = junitXmlPath(options.args);
  if (path === null) return [];
  try {
    return parseJunitXml(await readFile(resolve(options.cwd, path), "utf8"));
  } catch {
    return [];
  }
}

/** For a forced exit of the agent: SIGKILL everything of a running job at once, without waiting. */
export function killAtOnce(rootPid: number | undefined, seen: SeenProcesses): void {
  signalAll([...(rootPid === undefined ? [] : treeOf(rootPid)), ...seen.alive()], "SIGKILL");
}

/** The ending of a job whose command could not even be launched (its cgroup could not be opened). */
function notStarted(error: Error, summary: RegrtestSummary): RegrtestEnding {
  return {
    exitCode: null,
    signal: null,
    spawnError: error,
    summary,
    peakRssBytes: null,
    oomKilled: false,
    timedOut: null,
    stoppedBySignal: false,
    survivors: [],
  };
}

function maxKnown(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
