import type { Statement } from "better-sqlite3";
import { attemptIdFor } from "../../protocol/ids.ts";
import { JobStatus } from "../../protocol/job-status.ts";
import type { AttemptResult } from "../../protocol/messages.ts";
import type { Db } from "./database.ts";
import type { AttemptRow, JobRow } from "./job-rows.ts";
import { ACTIVE } from "./jobs-store.ts";
import { cachedPrepare } from "./statement-cache.ts";

export type ResultVerdict = "applied" | "duplicate" | "stale" | "early";
export type SeqVerdict = "next" | "duplicate" | "early";

/**
 * The guarded UPDATEs of jobs and attempts. Every state change is guarded by the state it
 * expects (and the current attempt), so a lost race changes no row and the caller learns of it
 * from the return value. Only coordinator/attempts/transitions.ts calls these: it adds the log
 * line and the event each change needs.
 */
export class JobStatesStore {
  private readonly byId: Statement<[number], JobRow>;
  private readonly attemptById: Statement<[string], AttemptRow>;
  private readonly uncountedAttempts: Statement<[number], { n: number }>;

  /** Statements compiled once, for the methods that prepare theirs where they run them. */
  private readonly sql: Db["prepare"];

  constructor(private readonly db: Db) {
    this.sql = cachedPrepare(db);
    this.byId = db.prepare("SELECT * FROM jobs WHERE id = ?");
    this.attemptById = db.prepare("SELECT * FROM attempts WHERE id = ?");
    // Attempts that never started the job's tests on their agent's account: handed back at a
    // shutdown, or an assignment the agent refused or never answered.
    this.uncountedAttempts = db.prepare(
      "SELECT COUNT(*) AS n FROM attempts WHERE job_id = ? AND status IN ('handed_back', 'rejected')",
    );
  }

  /** The commit the job builds, and when it was committed (null: not known, or not yet). */
  setCommit(jobId: number, commit: string, commitTime: string | null = null): void {
    this.sql("UPDATE jobs SET commit_sha = ?, commit_time = ? WHERE id = ?").run(commit, commitTime, jobId);
  }

  /** The Python version the job's interpreter answered (sys.version's first word). */
  setPythonVersion(jobId: number, version: string): void {
    this.sql("UPDATE jobs SET python_version = ? WHERE id = ?").run(version, jobId);
  }

  setHeldReason(jobId: number, reason: string | null): void {
    this.sql("UPDATE jobs SET held_reason = ? WHERE id = ? AND status = 'queued'").run(reason, jobId);
  }

  /** A queued job is pinned to another commit (a newer head of its watched branch); false once it left the queue. */
  repinQueued(jobId: number, commit: string): boolean {
    return (
      // An earlier attempt's commit time was of the commit it replaces.
      this.sql("UPDATE jobs SET commit_sha = ?, commit_time = NULL WHERE id = ? AND status = 'queued'").run(
        commit,
        jobId,
      ).changes > 0
    );
  }

  /** queued → assigned with a new attempt; returns the attempt id, or null if the job is no longer queued. */
  assign(jobId: number, agent: string, now = new Date()): string | null {
    return this.db.transaction(() => {
      const row = this.byId.get(jobId);
      if (!row || row.status !== JobStatus.queued) return null;
      const number = row.attempt_count + 1;
      const attemptId = attemptIdFor(jobId, number);
      const changed =
        this.sql(`UPDATE jobs SET status = 'assigned', agent = ?, attempt_count = ?, current_attempt = ?,
                    held_reason = NULL WHERE id = ? AND status = 'queued' AND attempt_count = ?`).run(
          agent,
          number,
          attemptId,
          jobId,
          row.attempt_count,
        ).changes;
      if (changed === 0) return null;
      this.sql(`INSERT INTO attempts (id, job_id, number, agent, status, started_at)
                  VALUES (?, ?, ?, ?, 'assigned', ?)`).run(
        attemptId,
        jobId,
        number,
        agent,
        now.toISOString(),
      );
      return attemptId;
    })();
  }

  /** The agent refused or never answered the assignment: the job waits again. */
  revertAssignment(jobId: number, attemptId: string, reason: string, now = new Date()): boolean {
    return this.db.transaction(() => {
      const changed =
        this.sql(`UPDATE jobs SET status = 'queued', agent = NULL, current_attempt = NULL, held_reason = ?
                  WHERE id = ? AND current_attempt = ? AND status = 'assigned'`).run(
          reason,
          jobId,
          attemptId,
        ).changes;
      if (changed === 0) return false;
      this.sql("UPDATE attempts SET status = 'rejected', finished_at = ? WHERE id = ?").run(
        now.toISOString(),
        attemptId,
      );
      return true;
    })();
  }

  /** assigned → running when the agent reports that the interpreter started. */
  markRunning(jobId: number, attemptId: string, now = new Date()): boolean {
    return this.db.transaction(() => {
      const changed = this.sql(`UPDATE jobs SET status = 'running', started_at = ?
                  WHERE id = ? AND current_attempt = ? AND status = 'assigned'`).run(
        now.toISOString(),
        jobId,
        attemptId,
      ).changes;
      if (changed > 0) {
        this.sql("UPDATE attempts SET status = 'running' WHERE id = ?").run(attemptId);
      }
      return changed > 0;
    })();
  }

  /**
   * Records progress message `seq` of an attempt once, in order: `next` if it follows the last
   * one applied (or `acceptGap` lets it skip ahead), `duplicate` if it was applied already, `early`
   * if one before it has not been applied yet. The agent sends them in order, but a report held
   * back (the store failed, then redelivered) may come back after a later one.
   */
  acceptProgressSeq(attemptId: string, seq: number, acceptGap = false): SeqVerdict {
    const next = this.sql("UPDATE attempts SET last_seq = ? WHERE id = ? AND last_seq = ?").run(
      seq,
      attemptId,
      seq - 1,
    ).changes;
    if (next > 0) return "next";
    const last = this.attemptById.get(attemptId)?.last_seq ?? 0;
    if (seq <= last) return "duplicate";
    if (!acceptGap) return "early";
    this.sql("UPDATE attempts SET last_seq = ? WHERE id = ?").run(seq, attemptId);
    return "next";
  }

  /**
   * Applies an attempt's final result, unless the attempt is no longer the job's current one;
   * `early` while progress sent before it has not been applied (unless `acceptGap`).
   */
  finish(result: AttemptResult, acceptGap = false): ResultVerdict {
    return this.db.transaction((): ResultVerdict => {
      const attempt = this.attemptById.get(result.attemptId);
      const job = attempt && this.byId.get(attempt.job_id);
      if (!attempt || !job) return "stale";
      if (attempt.status === result.status && job.current_attempt === attempt.id) return "duplicate";
      if (job.current_attempt !== attempt.id || !["assigned", "running"].includes(job.status)) {
        // Kept for the record (the first one only: a redelivery changes nothing), never applied.
        this.sql("UPDATE attempts SET late_result = ? WHERE id = ? AND late_result IS NULL").run(
          result.status,
          attempt.id,
        );
        return "stale";
      }
      if (attempt.last_seq < result.lastSeq && !acceptGap) return "early";
      this.sql(`UPDATE jobs SET status = @status, started_at = COALESCE(started_at, @startedAt),
                    finished_at = @finishedAt, exit_code = @exitCode, signal = @signal, peak_rss_bytes = @peak,
                    count_run = @run, count_failed = @failed, count_skipped = @skipped, count_leaks = @leaks,
                    failed_tests = @failedTests, error = @error, limit_bytes = @limitBytes, limit_kind = @limitKind
                  WHERE id = @id AND current_attempt = @attemptId AND status IN ${ACTIVE}`).run({
        id: job.id,
        attemptId: attempt.id,
        status: result.status,
        startedAt: result.startedAt,
        finishedAt: result.finishedAt,
        exitCode: result.exitCode,
        signal: result.signal,
        peak: result.peakRssBytes,
        run: result.counts?.run ?? null,
        failed: result.counts?.failed ?? null,
        skipped: result.counts?.skipped ?? null,
        leaks: result.counts?.leaks?.length ? JSON.stringify(result.counts.leaks) : null,
        failedTests: JSON.stringify(result.failedTests),
        error: result.error,
        limitBytes: result.limitBytes,
        limitKind: result.limitKind,
      });
      this.sql("UPDATE attempts SET status = ?, finished_at = ? WHERE id = ?").run(
        result.status,
        result.finishedAt,
        attempt.id,
      );
      return "applied";
    })();
  }

  /** A queued job ends as canceled at once; true if it was still queued. */
  cancelQueued(jobId: number, now = new Date()): boolean {
    return (
      this.sql(`UPDATE jobs SET status = 'canceled', finished_at = ?, held_reason = NULL, error = 'canceled on request'
                  WHERE id = ? AND status = 'queued'`).run(now.toISOString(), jobId).changes > 0
    );
  }

  markCancelRequested(jobId: number): void {
    this.sql("UPDATE jobs SET cancel_requested = 1 WHERE id = ?").run(jobId);
  }

  /**
   * The attempt's agent is gone: the attempt is `lost`, and the job waits
   * again unless it has used up its attempts, then it ends as `error`.
   */
  loseAttempt(attemptId: string, maxAttempts: number, reason: string, now = new Date()): JobStatus | null {
    return this.db.transaction((): JobStatus | null => {
      const attempt = this.attemptById.get(attemptId);
      if (!attempt) return null;
      const job = this.byId.get(attempt.job_id);
      if (!job || job.current_attempt !== attemptId || !["assigned", "running"].includes(job.status))
        return null;
      const at = now.toISOString();
      this.sql("UPDATE attempts SET status = 'lost', finished_at = ?, note = ? WHERE id = ?").run(
        at,
        reason,
        attemptId,
      );
      if (job.cancel_requested) {
        this.sql(`UPDATE jobs SET status = 'canceled', finished_at = ?, error = ? WHERE id = ?`).run(
          at,
          `canceled; ${reason}`,
          job.id,
        );
        return JobStatus.canceled;
      }
      const counted = job.attempt_count - (this.uncountedAttempts.get(job.id)?.n ?? 0);
      if (counted >= maxAttempts) {
        this.sql(`UPDATE jobs SET status = 'error', finished_at = ?, error = ? WHERE id = ?`).run(
          at,
          `${reason}; gave up after ${counted} attempts`,
          job.id,
        );
        return JobStatus.error;
      }
      this.sql(`UPDATE jobs SET status = 'queued', agent = NULL, current_attempt = NULL, started_at = NULL,
                    held_reason = ? WHERE id = ?`).run(`${reason}; waiting for another attempt`, job.id);
      return JobStatus.queued;
    })();
  }

  /**
   * The attempt's agent shut down and gave the job back: the attempt is
   * `handed_back` and the job waits again at once, keeping its place in the
   * queue. Unlike a lost attempt this does not use up the job's attempts.
   * A job whose cancel was asked for ends as canceled instead. Only the agent
   * that holds the attempt may hand it back; null if it does not (a lost race).
   */
  handBackAttempt(attemptId: string, agent: string, reason: string, now = new Date()): JobStatus | null {
    return this.db.transaction((): JobStatus | null => {
      const attempt = this.attemptById.get(attemptId);
      if (!attempt || attempt.agent !== agent) return null;
      const job = this.byId.get(attempt.job_id);
      if (!job || job.current_attempt !== attemptId || !["assigned", "running"].includes(job.status))
        return null;
      const at = now.toISOString();
      this.sql("UPDATE attempts SET status = 'handed_back', finished_at = ? WHERE id = ?").run(at, attemptId);
      if (job.cancel_requested) {
        this.sql(`UPDATE jobs SET status = 'canceled', finished_at = ?, error = ? WHERE id = ?`).run(
          at,
          `canceled; ${reason}`,
          job.id,
        );
        return JobStatus.canceled;
      }
      this.sql(`UPDATE jobs SET status = 'queued', agent = NULL, current_attempt = NULL, started_at = NULL,
                    held_reason = ? WHERE id = ? AND current_attempt = ?`).run(
        `${reason}; waiting for another agent`,
        job.id,
        attemptId,
      );
      return JobStatus.queued;
    })();
  }
}
