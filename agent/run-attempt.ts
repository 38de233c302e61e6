import { spawn } from "node:child_process";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { coerceError } from "../protocol/errors.ts";
import { JobStatus } from "../protocol/job-status.ts";
import type { Assignment, AttemptResult, LogLine, Sample, TestRecord } from "../protocol/messages.ts";
import { killTree } from "./kill-tree.ts";
import { LineSplitter } from "./line-splitter.ts";
import { classifyEnding, type ProcessEnding } from "./outcome.ts";
import { ProcessTreePeakWindow } from "./peak-window.ts";
import { SeenProcesses, signalAll, treeOf } from "./process-tree.ts";
import { probePython } from "./python-check.ts";
import { countsOf, failedTestsOf, RegrtestOutputReader } from "./regrtest-output.ts";
import { TreeSampler } from "./sampler.ts";
import { TestTimeline } from "./test-timeline.ts";

export interface AttemptOptions {
  workDir: string;
  sampleIntervalMs: number;
  onLog: (line: LogLine) => void;
  onSample: (sample: Sample) => void;
  /** Test files and cases as they finish, with their duration and peak. */
  onTests: (records: TestRecord[]) => void;
  /** Called once the interpreter process has started. */
  onStarted: () => void;
}

export type StopReason = "canceled" | "shutdown";

/** What an attempt produced; the caller adds the progress sequence number. */
export type AttemptOutcome = Omit<AttemptResult, "lastSeq">;

/**
 * One regrtest run on this host: starts the interpreter with an argument
 * array (no shell) in its own work directory, reads its output, samples its
 * process tree, enforces the wall-clock limit, and kills the whole tree when it
 * ends, is canceled or times out.
 */
export class RunningAttempt {
  readonly done: Promise<AttemptOutcome>;
  private stopRequest: ((reason: StopReason) => void) | null = null;
  private stopReason: StopReason | null = null;
  private latestRssBytes: number | null = null;
  private readonly seen = new SeenProcesses();
  private rootPid: number | undefined;

  constructor(
    readonly assignment: Assignment,
    private readonly options: AttemptOptions,
  ) {
    this.done = this.run().catch((thrown: unknown) =>
      this.failure(`the agent failed to run the job: ${coerceError(thrown).message}`),
    );
  }

  /** The tree's resident memory at the latest sample. */
  get currentRssBytes(): number | null {
    return this.latestRssBytes;
  }

  /** Asks the attempt to stop; `done` resolves once its process tree is gone. */
  stop(reason: StopReason): void {
    if (this.stopReason !== null) return;
    this.stopReason = reason;
    this.stopRequest?.(reason);
  }

  /** Kills the process tree at once, without waiting: for a forced exit of the agent. */
  forceKill(): void {
    this.stopReason ??= "shutdown";
    const pids = [...(this.rootPid === undefined ? [] : treeOf(this.rootPid)), ...this.seen.alive()];
    signalAll(pids, "SIGKILL");
  }

  private async run(): Promise<AttemptOutcome> {
    const { assignment, options } = this;
    const startedAt = new Date().toISOString();
    const probe = await probePython(assignment.python);
    if (!probe.usable) return this.failure(probe.problem ?? "the interpreter is not usable", startedAt);
    if (this.stopReason !== null) return this.failure("stopped before the interpreter started", startedAt);

    const cwd = join(options.workDir, "attempts", assignment.attemptId);
    await mkdir(cwd, { recursive: true });
    options.onLog({ stream: "system", text: `$ ${[assignment.python, ...assignment.args].join(" ")}` });
    options.onLog({ stream: "system", text: `python ${probe.version}, working directory ${cwd}` });

    const reader = new RegrtestOutputReader();
    const sequential = !assignment.args.some((arg) => /^(-j|--use-mp|--multiprocess)/.test(arg));
    let window: ProcessTreePeakWindow | null = null;
    const timeline = new TestTimeline({
      sequential,
      window: { reset: () => window?.reset(), peak: () => window?.peak() ?? null },
    });
    const child = spawn(assignment.python, assignment.args, {
      cwd,
      shell: false,
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so a Ctrl-C meant for the agent does not interrupt the tests: the agent
      // decides how they end and reports it.
      detached: true,
      env: { ...process.env, PYTHONUNBUFFERED: "1", TERM: "dumb" },
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>(
      (resolve) => {
        child.once("error", (error) => resolve({ code: null, signal: null, spawnError: error }));
        child.once("exit", (code, signal) => resolve({ code, signal }));
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
      child[stream].on("data", (chunk: Buffer) => splitter.push(chunk));
      child[stream].on("end", () => splitter.end());
    }

    const seen = this.seen;
    const rootPid = child.pid;
    this.rootPid = rootPid;
    const sampler =
      rootPid === undefined
        ? null
        : new TreeSampler(seen, rootPid, options.sampleIntervalMs, (sample) => {
            this.latestRssBytes = sample.rssBytes;
            options.onSample(sample);
          });
    if (rootPid !== undefined && sampler) {
      window = new ProcessTreePeakWindow(rootPid, seen, (bytes) => sampler.observePeak(bytes));
    }
    sampler?.start();
    if (rootPid !== undefined) options.onStarted();

    let timedOut = false;
    const killNow = () => {
      if (rootPid !== undefined) void killTree(rootPid, seen);
    };
    this.stopRequest = killNow;
    if (this.stopReason !== null) killNow();
    const timeout = setTimeout(() => {
      timedOut = true;
      options.onLog({
        stream: "system",
        text: `wall-clock limit of ${assignment.timeoutSeconds} s reached: stopping`,
      });
      killNow();
    }, assignment.timeoutSeconds * 1000);

    const exit = await exited;
    clearTimeout(timeout);
    this.stopRequest = null;
    await sampler?.stop();
    // Workers of regrtest run in their own sessions and may outlive the main process.
    const survivors = rootPid === undefined ? [] : await killTree(rootPid, seen);
    if (survivors.length > 0) {
      options.onLog({ stream: "system", text: `processes that would not die: ${survivors.join(", ")}` });
    }
    await Promise.race([streamsClosed, new Promise((resolve) => setTimeout(resolve, 2000))]);
    await rm(cwd, { recursive: true, force: true }).catch(() => undefined);

    if (exit.spawnError)
      return this.failure(`could not start ${assignment.python}: ${exit.spawnError.message}`, startedAt);
    const summary = reader.get();
    const lastTests = timeline.finish(summary);
    if (lastTests.length > 0) options.onTests(lastTests);
    const ending: ProcessEnding = {
      exitCode: exit.code,
      signal: exit.signal,
      canceledByUser: this.stopReason === "canceled",
      timedOutByAgent: timedOut,
      stoppedByAgentShutdown: this.stopReason === "shutdown",
    };
    const outcome = classifyEnding(ending, summary);
    options.onLog({
      stream: "system",
      text: `finished: ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ""}, exit code ${exit.code ?? "none"}${exit.signal ? `, signal ${exit.signal}` : ""}`,
    });
    return {
      jobId: assignment.jobId,
      attemptId: assignment.attemptId,
      status: outcome.status,
      exitCode: exit.code,
      signal: exit.signal,
      startedAt,
      finishedAt: new Date().toISOString(),
      peakRssBytes: sampler?.peakRssBytes ?? null,
      counts: countsOf(summary),
      failedTests: failedTestsOf(summary),
      error:
        outcome.status === JobStatus.passed || outcome.status === JobStatus.failed ? null : outcome.reason,
    };
  }

  private failure(reason: string, startedAt = new Date().toISOString()): AttemptOutcome {
    this.options.onLog({ stream: "system", text: `error: ${reason}` });
    return {
      jobId: this.assignment.jobId,
      attemptId: this.assignment.attemptId,
      status: this.stopReason === "canceled" ? JobStatus.canceled : JobStatus.error,
      exitCode: null,
      signal: null,
      startedAt,
      finishedAt: new Date().toISOString(),
      peakRssBytes: null,
      counts: null,
      failedTests: [],
      error: reason,
    };
  }
}
