import { mkdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { coerceError } from "../../protocol/errors.ts";
import { JobStatus } from "../../protocol/job-status.ts";
import type {
  Assignment,
  AttemptResult,
  LogLine,
  ProbePythonReply,
  Sample,
  TestRecord,
} from "../../protocol/messages.ts";
import { prepareCpython } from "../cpython/prepare-cpython.ts";
import type { JobLimit, LimitRequest } from "../limits/index.ts";
import type { JobProcessRecords } from "../processes/leftover-jobs.ts";
import { SeenProcesses } from "../processes/process-tree.ts";
import { classifyEnding } from "../regrtest/outcome.ts";
import { countsOf, failedTestsOf } from "../regrtest/regrtest-output.ts";
import { killAtOnce, runRegrtest } from "../regrtest/regrtest-process.ts";
import { noSpaceReason, saysNoSpace } from "./no-space.ts";

export interface AttemptOptions {
  workDir: string;
  sampleIntervalMs: number;
  killGraceMs: number;
  allowLocalRepos: boolean;
  /** Makes the job's memory limit (the agent's PreparedLimits: a cgroup made ahead where it can). */
  createLimit: (request: LimitRequest) => Promise<JobLimit>;
  /** Checks a given interpreter (the agent's ProbeCache, or probePython itself). */
  probePython: (python: string) => Promise<ProbePythonReply>;
  buildCacheBytes?: number;
  onLog: (line: LogLine) => void;
  onSample: (sample: Sample) => void;
  /** Test files and cases as they finish, with their duration and peak. */
  onTests: (records: TestRecord[]) => void;
  /** The exact commit, once a ref is resolved, and when it was committed (null: git could not tell). */
  onCommit: (commit: string, commitTime: string | null) => void;
  /** The interpreter's version (sys.version's first word), once it is checked. */
  onPythonVersion: (version: string) => void;
  /** Called once the attempt is under way (fetching, building or testing). */
  onStarted: () => void;
  /** Where running test interpreters are recorded, for the next agent process to clean up. */
  processRecords: JobProcessRecords;
}

export type StopReason = "canceled" | "shutdown";

/** What an attempt produced; the caller adds the progress sequence number. */
export type AttemptOutcome = Omit<AttemptResult, "lastSeq">;

/**
 * One attempt of a job on this host: get the interpreter (the given one, or
 * a CPython built from the job's ref), run regrtest under the job's memory
 * limit in a work directory of its own, and turn the ending into a result.
 * stop() cancels whichever step runs; `done` resolves once nothing of the job
 * is left running.
 */
export class RunningAttempt {
  readonly done: Promise<AttemptOutcome>;
  private readonly abort = new AbortController();
  private stopReason: StopReason | null = null;
  private latestRssBytes: number | null = null;
  private readonly seen = new SeenProcesses();
  private rootPid: number | undefined;
  private limit: JobLimit | null = null;
  /** Ends the attempt's use of its build (kept from eviction until then). */
  private releaseBuild: () => void = () => undefined;

  constructor(
    readonly assignment: Assignment,
    private readonly options: AttemptOptions,
  ) {
    this.done = this.run()
      .catch((thrown: unknown) =>
        this.failure(`the agent failed to run the job: ${coerceError(thrown).message}`),
      )
      .finally(() => this.releaseBuild());
  }

  /** The tree's resident memory at the latest sample. */
  get currentRssBytes(): number | null {
    return this.latestRssBytes;
  }

  /** Asks the attempt to stop; `done` resolves once its process tree is gone. */
  stop(reason: StopReason): void {
    if (this.stopReason !== null) return;
    this.stopReason = reason;
    this.abort.abort();
  }

  /** Kills the process tree at once, without waiting: for a forced exit of the agent. */
  forceKill(): void {
    this.stopReason ??= "shutdown";
    killAtOnce(this.rootPid, this.seen);
    void this.limit?.killAll();
  }

  private async run(): Promise<AttemptOutcome> {
    const { assignment, options } = this;
    const startedAt = new Date().toISOString();
    options.onStarted();
    const python = await this.interpreter();
    if (typeof python !== "string") {
      const { problem } = python;
      return this.failure(
        saysNoSpace(problem)
          ? noSpaceReason(options.workDir, `preparing the interpreter failed: ${problem}`)
          : problem,
        startedAt,
      );
    }
    if (this.stopReason !== null) return this.failure("stopped before the tests started", startedAt);

    const cwd = join(options.workDir, "attempts", assignment.attemptId);
    mkdirSync(cwd, { recursive: true }); // sync: no wait in the thread pool on the way to the spawn
    const limit = await options.createLimit({
      name: `attempt-${assignment.attemptId}`,
      limitBytes: assignment.limitBytes,
    });
    this.limit = limit;
    options.onLog({ stream: "system", text: `$ ${[python, ...assignment.args].join(" ")}` });
    options.onLog({
      stream: "system",
      text: `working directory ${cwd}; memory limit ${assignment.limitBytes} bytes (${limit.kind})`,
    });
    let sawNoSpace = false;
    try {
      const ending = await runRegrtest({
        python,
        args: assignment.args,
        cwd,
        timeoutSeconds: assignment.timeoutSeconds,
        noOutputTimeoutSeconds: assignment.noOutputTimeoutSeconds,
        sampleIntervalMs: options.sampleIntervalMs,
        killGraceMs: options.killGraceMs,
        limit,
        signal: this.abort.signal,
        seen: this.seen,
        onLog: (line) => {
          if (!sawNoSpace && saysNoSpace(line.text)) sawNoSpace = true;
          options.onLog(line);
        },
        onSample: (sample) => {
          this.latestRssBytes = sample.rssBytes;
          options.onSample(sample);
        },
        onTests: options.onTests,
        onStarted: (pid) => {
          this.rootPid = pid;
          options.processRecords.record(assignment.attemptId, pid);
        },
      });
      if (ending.survivors.length > 0) {
        options.onLog({
          stream: "system",
          text: `processes that would not die: ${ending.survivors.join(", ")}`,
        });
      }
      if (ending.spawnError)
        return this.failure(`could not start ${python}: ${ending.spawnError.message}`, startedAt);
      const classified = classifyEnding(
        {
          exitCode: ending.exitCode,
          signal: ending.signal,
          canceledByUser: this.stopReason === "canceled",
          timedOutByAgent: ending.timedOut,
          stoppedByAgentShutdown: this.stopReason === "shutdown",
          oomKilled: ending.oomKilled,
          limitBytes: assignment.limitBytes,
          peakRssBytes: ending.peakRssBytes,
        },
        ending.summary,
      );
      // Tests that failed because the host's disk filled say nothing about the code under test.
      const outcome =
        sawNoSpace && (classified.status === JobStatus.failed || classified.status === JobStatus.error)
          ? {
              status: JobStatus.error,
              reason: noSpaceReason(options.workDir, "the tests could not write their files"),
            }
          : classified;
      options.onLog({
        stream: "system",
        text: `finished: ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ""}, exit code ${ending.exitCode ?? "none"}${ending.signal ? `, signal ${ending.signal}` : ""}`,
      });
      return {
        attemptId: assignment.attemptId,
        status: outcome.status,
        exitCode: ending.exitCode,
        signal: ending.signal,
        startedAt,
        finishedAt: new Date().toISOString(),
        peakRssBytes: ending.peakRssBytes,
        counts: countsOf(ending.summary),
        failedTests: failedTestsOf(ending.summary),
        error:
          outcome.status === JobStatus.passed || outcome.status === JobStatus.failed ? null : outcome.reason,
        limitBytes: assignment.limitBytes,
        limitKind: limit.kind,
      };
    } finally {
      options.processRecords.forget(assignment.attemptId);
      await limit.dispose();
      await rm(cwd, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** The given interpreter, checked, or one built from the job's ref; or why there is none. */
  private async interpreter(): Promise<string | { problem: string }> {
    const { assignment, options } = this;
    if (assignment.python !== null) {
      const probe = await options.probePython(assignment.python);
      if (!probe.usable) return { problem: probe.problem ?? "the interpreter is not usable" };
      options.onLog({ stream: "system", text: `python ${probe.version} at ${assignment.python}` });
      if (probe.version) options.onPythonVersion(probe.version);
      return assignment.python;
    }
    if (assignment.build === null) return { problem: "the assignment names no interpreter and no build" };
    try {
      const prepared = await prepareCpython(
        {
          repo: assignment.build.repo,
          ref: assignment.build.ref,
          configureFlags: assignment.build.configureFlags,
          ...(assignment.build.commit === undefined ? {} : { commit: assignment.build.commit }),
        },
        {
          workDir: options.workDir,
          cores: availableParallelism(),
          allowLocalRepos: options.allowLocalRepos,
          onLog: options.onLog,
          signal: this.abort.signal,
          ...(options.buildCacheBytes === undefined ? {} : { buildCacheBytes: options.buildCacheBytes }),
        },
      );
      this.releaseBuild = prepared.release;
      options.onCommit(prepared.commit, prepared.commitTime);
      options.onLog({
        stream: "system",
        text: `${prepared.cached ? "reusing the build" : "built"} of ${prepared.commit}: ${prepared.python}`,
      });
      // Which Python the commit is, for the job's header; a build that cannot answer fails in regrtest.
      const probe = await options.probePython(prepared.python);
      if (probe.version) options.onPythonVersion(probe.version);
      return prepared.python;
    } catch (thrown) {
      return { problem: coerceError(thrown).message };
    }
  }

  private failure(reason: string, startedAt = new Date().toISOString()): AttemptOutcome {
    this.options.onLog({ stream: "system", text: `error: ${reason}` });
    return {
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
      limitBytes: null,
      limitKind: null,
    };
  }
}
