import { MemfarmError } from "../../protocol/errors.ts";

/**
 * Why preparing an interpreter failed: `fetch_failed` (the repository or ref),
 * `checkout_failed` (putting the commit on disk), `build_failed` (configure or
 * make), `build_canceled` (the job's signal was aborted). The job ends `error`
 * with this message, so it names the step, why it ended, and the tail of its output.
 */
export type BuildErrorCode = "fetch_failed" | "checkout_failed" | "build_failed" | "build_canceled";

export class BuildError extends MemfarmError {
  /** The step that failed, e.g. `git fetch`, `configure`, `make`. */
  readonly step: string;
  /** The last lines of that step's output (stdout and stderr, in arrival order). */
  readonly logTail: string[];

  constructor(
    code: BuildErrorCode,
    step: string,
    reason: string,
    logTail: string[] = [],
    options?: { cause?: unknown },
  ) {
    super(code, messageOf(code, step, reason, logTail), options);
    this.step = step;
    this.logTail = logTail;
  }
}

function messageOf(code: BuildErrorCode, step: string, reason: string, logTail: string[]): string {
  const head = code === "build_canceled" ? `${step} was stopped: ${reason}` : `${step} failed: ${reason}`;
  if (logTail.length === 0) return head;
  const lines = logTail.length === 1 ? "last line" : `last ${logTail.length} lines`;
  return `${head}\n${lines} of its output:\n${logTail.join("\n")}`;
}
