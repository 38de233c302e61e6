import type { Logger } from "../../protocol/logger.ts";
import type { Report } from "../../protocol/messages.ts";
import type { ReportVerdict } from "../nats/report-stream.ts";
import type { JobsStore } from "../store/jobs-store.ts";
import type { Transitions } from "./transitions.ts";

/**
 * Applies one report from the stream, after checking that the attempt was given to the agent that
 * sent it: an agent cannot report for another agent's attempt. Idempotent: a redelivered report
 * changes nothing, and one from an attempt that is no longer the job's current one is rejected.
 */
export function applyReport(
  jobs: JobsStore,
  transitions: Transitions,
  log: Logger,
  agent: string,
  report: Report,
  /** Apply it even though reports sent before it have not been (they never arrived). */
  acceptGap = false,
): ReportVerdict {
  const attempt = jobs.attempt(report.attemptId);
  if (attempt && attempt.agent !== agent) {
    log.warn("rejected a report about another agent's attempt", {
      agent,
      attempt: report.attemptId,
      owner: attempt.agent,
    });
    return "forged";
  }
  const verdict =
    report.kind === "progress"
      ? transitions.recordProgress(report, acceptGap)
      : transitions.finishAttempt(report, acceptGap);
  if (verdict === "duplicate") {
    // Redelivery after a crash is normal, so not a warning; a replay shows up here too.
    log.info("ignored a report that was already applied", {
      agent,
      attempt: report.attemptId,
      kind: report.kind,
      ...(report.kind === "progress" ? { seq: report.seq } : {}),
    });
  }
  return verdict;
}
