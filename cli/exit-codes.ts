import type { JobStatus } from "../protocol/job-status.ts";

/**
 * The CLI's exit codes, documented in docs/cli.md. A script can tell a test
 * failure from an OOM from a farm that could not run the job.
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  oom: 3,
  timedOut: 4,
  canceled: 5,
  error: 6,
  unreachable: 7,
} as const;

export function exitCodeForStatus(status: JobStatus): number {
  switch (status) {
    case "passed":
      return ExitCode.ok;
    case "failed":
      return ExitCode.failed;
    case "oom":
      return ExitCode.oom;
    case "timed_out":
      return ExitCode.timedOut;
    case "canceled":
      return ExitCode.canceled;
    default:
      return ExitCode.error;
  }
}
