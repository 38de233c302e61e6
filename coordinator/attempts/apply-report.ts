import type { Logger } from "../../protocol/logger.ts";
import type { AttemptResult, Progress, Report } from "../../protocol/messages.ts";
import type { ReportVerdict } from "../nats/report-stream.ts";
import type { Store } from "../store/store.ts";
import type { FarmEvents } from "./farm-events.ts";

/**
 * Applies one report from the stream, after checking that the attempt was given to the agent that
 * sent it: an agent cannot report for another agent's attempt.
 */
export function applyReport(
  store: Store,
  events: FarmEvents,
  log: Logger,
  agent: string,
  report: Report,
): ReportVerdict {
  const attempt = store.jobs.attempt(report.attemptId);
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
      ? applyProgress(store, events, log, report)
      : applyResult(store, events, log, report);
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

/**
 * Applies what agents report about attempts. Both functions are idempotent:
 * a redelivered message changes nothing, and a message from an attempt that
 * is no longer the job's current one is rejected and logged.
 */
export function applyProgress(
  store: Store,
  events: FarmEvents,
  log: Logger,
  progress: Progress,
): "applied" | "duplicate" | "stale" {
  const jobId = Number(progress.jobId);
  const outcome = store.db.transaction(() => {
    const attempt = store.jobs.attempt(progress.attemptId);
    const job = store.jobs.get(jobId);
    const current = job?.attempts.at(-1);
    if (!attempt || !job || attempt.job_id !== jobId || current?.id !== attempt.id) return null;
    if (job.status !== "assigned" && job.status !== "running") return null;
    if (!store.jobs.acceptProgressSeq(progress.attemptId, progress.seq)) return { duplicate: true } as const;
    const started = progress.started && store.jobs.markRunning(jobId, progress.attemptId);
    const lines = store.logs.append(jobId, progress.attemptId, progress.log);
    store.samples.append(jobId, progress.attemptId, progress.samples);
    store.tests.record(jobId, progress.attemptId, progress.tests);
    if (progress.commit) store.jobs.setCommit(jobId, progress.commit);
    return { duplicate: false, started, lines } as const;
  })();
  if (outcome === null) {
    log.warn("rejected progress from an attempt that is not current", {
      job: jobId,
      attempt: progress.attemptId,
    });
    return "stale";
  }
  if (outcome.duplicate) return "duplicate";
  if (outcome.started)
    events.emit("job", store.jobs.get(jobId) as NonNullable<ReturnType<typeof store.jobs.get>>);
  if (outcome.lines.length > 0) events.emit("log", { jobId, lines: outcome.lines });
  if (progress.samples.length > 0) events.emit("samples", { jobId, samples: progress.samples });
  return "applied";
}

export function applyResult(
  store: Store,
  events: FarmEvents,
  log: Logger,
  result: AttemptResult,
): "applied" | "duplicate" | "stale" {
  const verdict = store.jobs.finish(result);
  const jobId = Number(result.jobId);
  if (verdict === "stale") {
    log.warn("rejected a result from an attempt that is not current", {
      job: jobId,
      attempt: result.attemptId,
    });
  }
  if (verdict === "applied") {
    const job = store.jobs.get(jobId);
    if (job) {
      log.info("job finished", { job: jobId, status: job.status, agent: job.agent });
      events.emit("job", job);
    }
  }
  return verdict;
}
