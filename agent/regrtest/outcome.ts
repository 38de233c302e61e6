import { type FinalStatus, JobStatus } from "../../protocol/job-status.ts";
import { formatBytes } from "../../protocol/sizes.ts";
import type { RegrtestSummary } from "./regrtest-output.ts";

/** How the regrtest process ended, and what the agent itself did to it. */
export interface ProcessEnding {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  canceledByUser: boolean;
  /** The agent stopped the tests for running too long, or for printing nothing too long. */
  timedOutByAgent: "wall-clock" | "no-output" | null;
  stoppedByAgentShutdown: boolean;
  /** The memory limit was hit: the cgroup's OOM counter or the watchdog. */
  oomKilled: boolean;
  limitBytes: number | null;
  peakRssBytes: number | null;
}

export interface Outcome {
  status: FinalStatus;
  /** Why the job ended as it did, in words, when the status alone does not say it. */
  reason: string | null;
}

/**
 * Maps regrtest's ending to a job status. Hitting the memory limit is `oom`,
 * never a test failure. Otherwise the exit code is the truth
 * (shared/reference/regrtest.md): 0 ok, 2 failures, 3 env changed,
 * 4 no tests ran, 5 failed-then-passed, 130 interrupted, and 1 with no summary
 * when `--timeout` fired without `-j`.
 */
export function classifyEnding(ending: ProcessEnding, summary: RegrtestSummary): Outcome {
  if (ending.canceledByUser) return { status: JobStatus.canceled, reason: "canceled on request" };
  if (ending.oomKilled) {
    const limit =
      ending.limitBytes === null
        ? "its memory limit"
        : `its memory limit of ${formatBytes(ending.limitBytes)}`;
    const peak = ending.peakRssBytes === null ? "" : ` (peak ${formatBytes(ending.peakRssBytes)})`;
    return {
      status: JobStatus.oom,
      reason: `the tests needed more than ${limit}${peak}, so they were killed; the host and the agent were not affected`,
    };
  }
  if (ending.timedOutByAgent === "wall-clock") {
    return {
      status: JobStatus.timedOut,
      reason: "the job ran past its wall-clock time limit and was stopped",
    };
  }
  if (ending.timedOutByAgent === "no-output") {
    return {
      status: JobStatus.timedOut,
      reason: "the job printed nothing for too long (hung?) and was stopped",
    };
  }
  if (ending.stoppedByAgentShutdown) {
    return { status: JobStatus.error, reason: "the agent shut down while the job was running" };
  }
  if (ending.signal !== null) {
    const hint = ending.signal === "SIGKILL" ? " (the kernel's OOM killer sends this signal)" : "";
    return { status: JobStatus.error, reason: `regrtest was killed by ${ending.signal}${hint}` };
  }
  switch (ending.exitCode) {
    case 0:
      return { status: JobStatus.passed, reason: null };
    case 2:
      return { status: JobStatus.failed, reason: null };
    case 3:
      return { status: JobStatus.failed, reason: "tests changed the execution environment" };
    case 4:
      return { status: JobStatus.failed, reason: "no tests ran: check the test names" };
    case 5:
      return { status: JobStatus.failed, reason: "tests failed, then passed when run again" };
    case 130:
      return { status: JobStatus.canceled, reason: "regrtest was interrupted" };
    case 1:
      if (summary.sawTimeout || summary.result === null) {
        return summary.sawTimeout
          ? { status: JobStatus.timedOut, reason: "a test file ran past regrtest's --timeout" }
          : { status: JobStatus.error, reason: "regrtest exited with code 1 before printing a summary" };
      }
      return { status: JobStatus.failed, reason: `regrtest exited with code 1 (result ${summary.result})` };
    default:
      return {
        status: JobStatus.error,
        reason: `the interpreter exited with code ${ending.exitCode}; regrtest did not run`,
      };
  }
}
