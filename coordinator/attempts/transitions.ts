import { JobStatus } from "../../protocol/job-status.ts";
import type { Logger } from "../../protocol/logger.ts";
import type { AttemptResult, Progress } from "../../protocol/messages.ts";
import type { JobResource } from "../../protocol/resources.ts";
import type { ResultVerdict } from "../store/job-states-store.ts";
import type { NewJob } from "../store/jobs-store.ts";
import type { Store } from "../store/store.ts";
import type { FarmEvents } from "./farm-events.ts";

/**
 * Every change of a job's or an attempt's state, one method each: the guarded UPDATE (in the
 * store: a lost race changes no row), the line it writes to the job's log where a person should
 * read why, and the `job` event that live views and the PR bot follow. Nothing else in the
 * coordinator changes a job's state or emits a job event, so a new transition cannot forget to
 * tell the dashboard.
 *
 *   queued → assigned → running → passed | failed | error | oom | timeout | canceled
 *   assigned → queued            (the agent refused, or never answered)
 *   assigned | running → queued  (the attempt was lost or handed back; within the job's budget)
 *   queued → canceled            (canceled while waiting)
 */
export class Transitions {
  constructor(
    private readonly store: Store,
    private readonly events: FarmEvents,
    private readonly log: Logger,
  ) {}

  /** A new job waits in the queue, pinned to `commit` if one is given (a pull request's head as read). */
  queueJob(job: NewJob, commit?: string): JobResource {
    const inserted = this.store.jobs.insert(job);
    if (commit !== undefined && inserted.ref) {
      this.store.jobStates.setCommit(inserted.id, commit);
      inserted.commit = commit;
    }
    this.events.emit("job", inserted);
    return inserted;
  }

  /**
   * A waiting job of a watch is to build a newer head instead (the newest commit wins, as
   * Buildbot's collapsed requests); false if it no longer waits.
   */
  repinQueuedJob(jobId: number, commit: string): boolean {
    if (!this.store.jobStates.repinQueued(jobId, commit)) return false;
    this.emitJob(jobId);
    return true;
  }

  /** Why a waiting job does not start yet, as the scheduler last saw it. */
  holdJob(jobId: number, reason: string): void {
    this.store.jobStates.setHeldReason(jobId, reason);
    this.emitJob(jobId);
  }

  /** queued → assigned with a new attempt on `agent`; null if the job is no longer queued. */
  assignJob(jobId: number, agent: string): { attemptId: string; job: JobResource } | null {
    const attemptId = this.store.jobStates.assign(jobId, agent);
    if (attemptId === null) return null;
    const job = this.emitJob(jobId);
    return job ? { attemptId, job } : null;
  }

  /** assigned → queued: the agent refused the attempt or never answered; it does not count. */
  requeueRefused(jobId: number, attemptId: string, reason: string): void {
    if (this.store.jobStates.revertAssignment(jobId, attemptId, reason)) this.emitJob(jobId);
  }

  /**
   * Applies one progress message: its log lines, samples and tests, and assigned → running when
   * it says the attempt started. Idempotent: a redelivery changes nothing.
   */
  recordProgress(progress: Progress, acceptGap = false): ResultVerdict {
    const write = this.store.progress.record(progress, acceptGap);
    if (write.verdict === "stale") {
      this.log.warn("rejected progress from an attempt that is not current", {
        job: write.jobId,
        attempt: progress.attemptId,
      });
      return "stale";
    }
    if (write.verdict !== "applied") return write.verdict;
    const { jobId, started, lines } = write;
    if (started) this.emitJob(jobId);
    if (lines.length > 0) this.events.emit("log", { jobId, lines });
    if (progress.samples.length > 0) this.events.emit("samples", { jobId, samples: progress.samples });
    return "applied";
  }

  /** assigned | running → the attempt's final status; stale if the attempt is no longer current. */
  finishAttempt(result: AttemptResult, acceptGap = false): ResultVerdict {
    const verdict = this.store.jobStates.finish(result, acceptGap);
    const jobId = this.store.jobs.attempt(result.attemptId)?.job_id ?? null;
    if (verdict === "stale") {
      this.log.warn("rejected a result from an attempt that is not current", {
        job: jobId,
        attempt: result.attemptId,
      });
    }
    if (verdict === "applied" && jobId !== null) {
      const job = this.emitJob(jobId);
      if (job) this.log.info("job finished", { job: jobId, status: job.status, agent: job.agent });
    }
    return verdict;
  }

  /** queued → canceled at once; false if the job no longer waits. */
  cancelQueuedJob(jobId: number): boolean {
    if (!this.store.jobStates.cancelQueued(jobId)) return false;
    this.log.info("job canceled while queued", { job: jobId });
    this.emitJob(jobId);
    return true;
  }

  /** A job on an agent is to be canceled: it ends `canceled` when its attempt stops or is lost. */
  requestCancel(jobId: number): void {
    this.store.jobStates.markCancelRequested(jobId);
    this.emitJob(jobId);
  }

  /**
   * The attempt's agent is gone or no longer runs it: the attempt is `lost`, and the job waits
   * again within its budget of attempts, else ends `error` (or `canceled` if that was asked).
   */
  loseAttempt(attemptId: string, maxAttempts: number, reason: string): JobStatus | null {
    const jobId = this.store.jobs.attempt(attemptId)?.job_id;
    const status = this.store.jobStates.loseAttempt(attemptId, maxAttempts, reason);
    if (status === null || jobId === undefined) return null;
    this.log.warn("attempt lost", { attempt: attemptId, job: jobId, reason, status });
    this.emitJob(jobId);
    return status;
  }

  /**
   * The attempt's agent shut down and gave the job back: it waits again at once, keeping its
   * place, without using up an attempt. Null if `agent` does not hold the attempt (any more).
   */
  handBackAttempt(attemptId: string, agent: string, why: string): JobStatus | null {
    const jobId = this.store.jobs.attempt(attemptId)?.job_id;
    const reason = `agent ${agent} handed the job back (${why})`;
    const status = this.store.jobStates.handBackAttempt(attemptId, agent, reason);
    if (status === null || jobId === undefined) return null;
    const then = status === JobStatus.queued ? "waits for another agent" : `ended as ${status}`;
    const lines = this.store.logs.append(jobId, attemptId, [
      { stream: "system", text: `${reason}; the job ${then}` },
    ]);
    this.events.emit("log", { jobId, lines });
    this.emitJob(jobId);
    this.log.info("attempt handed back", { job: jobId, attempt: attemptId, agent, status });
    return status;
  }

  private emitJob(jobId: number): JobResource | null {
    const job = this.store.jobs.get(jobId);
    if (job) this.events.emit("job", job);
    return job;
  }
}
