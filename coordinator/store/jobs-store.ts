import type { Statement } from "better-sqlite3";
import { attemptIdFor } from "../../protocol/attempt-ids.ts";
import { JobStatus, type Priority } from "../../protocol/job-status.ts";
import type { AttemptResult } from "../../protocol/messages.ts";
import type { JobResource, Provenance } from "../../protocol/resources.ts";
import type { PastRun } from "../jobs/learned-reservation.ts";
import type { Db } from "./database.ts";
import { type AttemptRow, type JobRow, toJobResource } from "./job-rows.ts";

export interface NewJob {
  suite: string;
  priority: Priority;
  memlimitBytes: number | null;
  reservationBytes: number;
  python: string | null;
  ref: string | null;
  repo: string | null;
  configureFlags: string[];
  noOutputTimeoutSeconds: number;
  exclusive: boolean;
  /** A learned reservation below the declared one, counted by the scheduler; null: the declared one. */
  scheduledBytes: number | null;
  tests: string[];
  labels: Record<string, string>;
  provenance: Provenance;
  args: string[];
  timeoutSeconds: number;
}

export interface JobFilter {
  status?: string;
  suite?: string;
  agent?: string;
  /** A git ref, matched exactly (a pull request is `pull/N/head`). */
  ref?: string;
  /** Jobs the PR bot queued for this repository (`owner/name`) and, optionally, pull request. */
  repository?: string;
  pullRequest?: number;
  limit: number;
  /** Cursor: only jobs with a smaller id (the list is newest first). */
  before?: number;
}

/** What the scheduler needs of a waiting job. */
export interface QueuedJob {
  id: number;
  /** When it was submitted, in ms since the epoch (a job requeued after a lost agent keeps its place). */
  submittedMs: number;
  priority: Priority;
  /** What the scheduler counts: the learned reservation where there is one, else the declared one. */
  reservationBytes: number;
  labels: Record<string, string>;
  heldReason: string | null;
  exclusive: boolean;
  suite: string;
  memlimitBytes: number | null;
  timeoutSeconds: number;
}

/** A job holding memory on an agent, as the scheduler sees it. */
export interface ActiveJob {
  jobId: number;
  agent: string;
  reservationBytes: number;
  exclusive: boolean;
  /** When it was handed to the agent or started, in ms since the epoch. */
  sinceMs: number;
  suite: string;
  memlimitBytes: number | null;
  timeoutSeconds: number;
}

/** An attempt in flight, with its job. */
export interface ActiveAttempt {
  attemptId: string;
  jobId: number;
  agent: string;
  status: JobStatus;
  /** When it was handed to the agent (ISO 8601). */
  assignedAt: string;
}

export type ResultVerdict = "applied" | "duplicate" | "stale";

const ACTIVE = `('${JobStatus.assigned}', '${JobStatus.running}')`;

/**
 * Jobs and their attempts. Every state change is an UPDATE guarded by the
 * state it expects (and the current attempt), so a lost race changes no row
 * and the caller learns of it from the return value.
 */
export class JobsStore {
  private readonly insertStatement: Statement;
  private readonly byId: Statement<[number], JobRow>;
  private readonly attemptsOf: Statement<[number], AttemptRow>;
  private readonly attemptById: Statement<[string], AttemptRow>;
  private readonly queuedStatement: Statement<[], JobRow>;
  private readonly reservedStatement: Statement<[], { agent: string; bytes: number }>;
  private readonly activeOfAgent: Statement<[string], ActiveAttempt>;
  private readonly uncountedAttempts: Statement<[number], { n: number }>;
  private readonly currentActive: Statement<[number, string], { id: number }>;
  private readonly latestVerdict: Statement<
    { suite: string; repo: string; ref: string; before: number },
    { id: number; commit_sha: string | null }
  >;

  constructor(private readonly db: Db) {
    this.insertStatement = db.prepare(`
      INSERT INTO jobs (suite, status, priority, memlimit_bytes, reservation_bytes, python, ref, repo, configure_flags,
                        no_output_timeout_seconds, exclusive, scheduled_bytes, tests, labels, provenance, args,
                        timeout_seconds, created_at)
      VALUES (@suite, 'queued', @priority, @memlimitBytes, @reservationBytes, @python, @ref, @repo, @configureFlags,
              @noOutputTimeoutSeconds, @exclusive, @scheduledBytes, @tests, @labels, @provenance, @args,
              @timeoutSeconds, @createdAt)`);
    this.byId = db.prepare("SELECT * FROM jobs WHERE id = ?");
    this.attemptsOf = db.prepare("SELECT * FROM attempts WHERE job_id = ? ORDER BY number");
    this.attemptById = db.prepare("SELECT * FROM attempts WHERE id = ?");
    this.queuedStatement = db.prepare(`
      SELECT * FROM jobs WHERE status = 'queued'
      ORDER BY CASE priority WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2 END, id`);
    this.reservedStatement = db.prepare(`
      SELECT agent, SUM(COALESCE(scheduled_bytes, reservation_bytes)) AS bytes FROM jobs
      WHERE status IN ${ACTIVE} AND agent IS NOT NULL GROUP BY agent`);
    this.activeOfAgent = db.prepare(`
      SELECT j.current_attempt AS attemptId, j.id AS jobId, j.agent, j.status, a.started_at AS assignedAt
      FROM jobs j JOIN attempts a ON a.id = j.current_attempt
      WHERE j.agent = ? AND j.status IN ${ACTIVE}`);
    // Attempts that never started the job's tests on their agent's account: handed back at a
    // shutdown, or an assignment the agent refused or never answered.
    this.uncountedAttempts = db.prepare(
      "SELECT COUNT(*) AS n FROM attempts WHERE job_id = ? AND status IN ('handed_back', 'rejected')",
    );
    this.currentActive = db.prepare(
      `SELECT id FROM jobs WHERE id = ? AND current_attempt = ? AND status IN ${ACTIVE}`,
    );
    this.latestVerdict = db.prepare(`
      SELECT id, commit_sha FROM jobs
      WHERE suite = @suite AND repo = @repo AND ref = @ref AND status IN ('passed', 'failed') AND id < @before
      ORDER BY id DESC LIMIT 1`);
  }

  insert(job: NewJob, now = new Date()): JobResource {
    const info = this.insertStatement.run({
      ...job,
      configureFlags: JSON.stringify(job.configureFlags),
      exclusive: job.exclusive ? 1 : 0,
      tests: JSON.stringify(job.tests),
      labels: JSON.stringify(job.labels),
      provenance: JSON.stringify(job.provenance),
      args: JSON.stringify(job.args),
      createdAt: now.toISOString(),
    });
    return this.get(Number(info.lastInsertRowid)) as JobResource;
  }

  get(id: number): JobResource | null {
    const row = this.byId.get(id);
    return row ? toJobResource(row, this.attemptsOf.all(id)) : null;
  }

  list(filter: JobFilter): { jobs: JobResource[]; nextCursor: string | null } {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status) {
      where.push("status = ?");
      params.push(filter.status);
    }
    if (filter.suite) {
      where.push("suite = ?");
      params.push(filter.suite);
    }
    if (filter.agent) {
      where.push("agent = ?");
      params.push(filter.agent);
    }
    if (filter.ref) {
      where.push("ref = ?");
      params.push(filter.ref);
    }
    if (filter.repository) {
      where.push("json_extract(provenance, '$.pullRequest.repository') = ? COLLATE NOCASE");
      params.push(filter.repository);
    }
    if (filter.pullRequest !== undefined) {
      where.push("json_extract(provenance, '$.pullRequest.number') = ?");
      params.push(filter.pullRequest);
    }
    if (filter.before !== undefined) {
      where.push("id < ?");
      params.push(filter.before);
    }
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
    const rows = this.db.prepare<unknown[], JobRow>(sql).all(...params, filter.limit + 1);
    const page = rows.slice(0, filter.limit);
    const last = page.at(-1);
    return {
      jobs: page.map((row) => toJobResource(row, this.attemptsOf.all(row.id))),
      nextCursor: rows.length > filter.limit && last ? String(last.id) : null,
    };
  }

  queued(): QueuedJob[] {
    return this.queuedStatement.all().map((row) => ({
      id: row.id,
      submittedMs: Date.parse(row.created_at),
      priority: row.priority,
      reservationBytes: row.scheduled_bytes ?? row.reservation_bytes,
      labels: JSON.parse(row.labels) as Record<string, string>,
      heldReason: row.held_reason,
      exclusive: row.exclusive === 1,
      suite: row.suite,
      memlimitBytes: row.memlimit_bytes,
      timeoutSeconds: row.timeout_seconds,
    }));
  }

  /** Jobs assigned to or running on an agent, with what they hold. */
  active(): ActiveJob[] {
    return this.db
      .prepare<[], JobRow & { assigned_at: string | null }>(
        `SELECT jobs.*, attempts.started_at AS assigned_at FROM jobs
         LEFT JOIN attempts ON attempts.id = jobs.current_attempt
         WHERE jobs.status IN ${ACTIVE} AND jobs.agent IS NOT NULL`,
      )
      .all()
      .map((row) => ({
        jobId: row.id,
        agent: row.agent as string,
        reservationBytes: row.scheduled_bytes ?? row.reservation_bytes,
        exclusive: row.exclusive === 1,
        sinceMs: Date.parse(row.started_at ?? row.assigned_at ?? row.created_at),
        suite: row.suite,
        memlimitBytes: row.memlimit_bytes,
        timeoutSeconds: row.timeout_seconds,
      }));
  }

  /** Memory reserved on each agent by the jobs it has been given and not finished. */
  reservedByAgent(): Map<string, number> {
    return new Map(this.reservedStatement.all().map((row) => [row.agent, row.bytes]));
  }

  /** The ids of the assigned and running jobs on each agent. */
  activeJobsByAgent(): Map<string, number[]> {
    const byAgent = new Map<string, number[]>();
    const rows = this.db
      .prepare<[], { agent: string; id: number }>(
        `SELECT agent, id FROM jobs WHERE status IN ${ACTIVE} AND agent IS NOT NULL ORDER BY id`,
      )
      .all();
    for (const row of rows) byAgent.set(row.agent, [...(byAgent.get(row.agent) ?? []), row.id]);
    return byAgent;
  }

  /**
   * The latest finished runs of a suite at a memlimit that reported a peak
   * (passed or failed: an OOM or a timeout says little about what a run needs).
   */
  pastRuns(suite: string, memlimitBytes: number | null, limit = 50): PastRun[] {
    return this.db
      .prepare<[string, number | null, number], { peak: number; started: string; finished: string }>(
        `SELECT peak_rss_bytes AS peak, started_at AS started, finished_at AS finished FROM jobs
         WHERE suite = ? AND memlimit_bytes IS ? AND status IN ('passed', 'failed')
           AND peak_rss_bytes IS NOT NULL AND started_at IS NOT NULL AND finished_at IS NOT NULL
         ORDER BY id DESC LIMIT ?`,
      )
      .all(suite, memlimitBytes, limit)
      .map((row) => ({
        peakRssBytes: row.peak,
        durationMs: Date.parse(row.finished) - Date.parse(row.started),
      }));
  }

  /** Number of jobs in each status, for /metrics. */
  countByStatus(): Map<string, number> {
    const rows = this.db
      .prepare<[], { status: string; n: number }>("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
      .all();
    return new Map(rows.map((row) => [row.status, row.n]));
  }

  activeAttemptsOf(agent: string): ActiveAttempt[] {
    return this.activeOfAgent.all(agent);
  }

  attempt(attemptId: string): AttemptRow | null {
    return this.attemptById.get(attemptId) ?? null;
  }

  /** Whether the attempt is the job's current one and the job is assigned or running. */
  isCurrentAndActive(jobId: number, attemptId: string): boolean {
    return this.currentActive.get(jobId, attemptId) !== undefined;
  }

  /**
   * The latest job before `before` of a suite on a ref of a repository that ended with a verdict
   * (passed or failed): what the PR bot compares a pull request's job with.
   */
  latestVerdictOnRef(query: { suite: string; repo: string; ref: string; before: number }) {
    const row = this.latestVerdict.get(query);
    return row ? { id: row.id, commit: row.commit_sha } : null;
  }

  setCommit(jobId: number, commit: string): void {
    this.db.prepare("UPDATE jobs SET commit_sha = ? WHERE id = ?").run(commit, jobId);
  }

  setHeldReason(jobId: number, reason: string | null): void {
    this.db.prepare("UPDATE jobs SET held_reason = ? WHERE id = ? AND status = 'queued'").run(reason, jobId);
  }

  /** queued → assigned with a new attempt; returns the attempt id, or null if the job is no longer queued. */
  assign(jobId: number, agent: string, now = new Date()): string | null {
    return this.db.transaction(() => {
      const row = this.byId.get(jobId);
      if (!row || row.status !== JobStatus.queued) return null;
      const number = row.attempt_count + 1;
      const attemptId = attemptIdFor(jobId, number);
      const changed = this.db
        .prepare(`UPDATE jobs SET status = 'assigned', agent = ?, attempt_count = ?, current_attempt = ?,
                    held_reason = NULL WHERE id = ? AND status = 'queued' AND attempt_count = ?`)
        .run(agent, number, attemptId, jobId, row.attempt_count).changes;
      if (changed === 0) return null;
      this.db
        .prepare(`INSERT INTO attempts (id, job_id, number, agent, status, started_at)
                  VALUES (?, ?, ?, ?, 'assigned', ?)`)
        .run(attemptId, jobId, number, agent, now.toISOString());
      return attemptId;
    })();
  }

  /** The agent refused or never answered the assignment: the job waits again. */
  revertAssignment(jobId: number, attemptId: string, reason: string, now = new Date()): boolean {
    return this.db.transaction(() => {
      const changed = this.db
        .prepare(`UPDATE jobs SET status = 'queued', agent = NULL, current_attempt = NULL, held_reason = ?
                  WHERE id = ? AND current_attempt = ? AND status = 'assigned'`)
        .run(reason, jobId, attemptId).changes;
      if (changed === 0) return false;
      this.db
        .prepare("UPDATE attempts SET status = 'rejected', finished_at = ? WHERE id = ?")
        .run(now.toISOString(), attemptId);
      return true;
    })();
  }

  /** assigned → running when the agent reports that the interpreter started. */
  markRunning(jobId: number, attemptId: string, now = new Date()): boolean {
    return this.db.transaction(() => {
      const changed = this.db
        .prepare(`UPDATE jobs SET status = 'running', started_at = ?
                  WHERE id = ? AND current_attempt = ? AND status = 'assigned'`)
        .run(now.toISOString(), jobId, attemptId).changes;
      if (changed > 0) {
        this.db.prepare("UPDATE attempts SET status = 'running' WHERE id = ?").run(attemptId);
      }
      return changed > 0;
    })();
  }

  /**
   * Records progress message `seq` of an attempt once: true if it is new.
   * Messages arrive in order (the agent's outbox), so anything at or below the
   * last seen number is a redelivery.
   */
  acceptProgressSeq(attemptId: string, seq: number): boolean {
    return (
      this.db
        .prepare("UPDATE attempts SET last_seq = ? WHERE id = ? AND last_seq < ?")
        .run(seq, attemptId, seq).changes > 0
    );
  }

  /** Applies an attempt's final result, unless the attempt is no longer the job's current one. */
  finish(result: AttemptResult): ResultVerdict {
    return this.db.transaction((): ResultVerdict => {
      const attempt = this.attemptById.get(result.attemptId);
      const job = attempt && this.byId.get(attempt.job_id);
      if (!attempt || !job) return "stale";
      if (attempt.status === result.status && job.current_attempt === attempt.id) return "duplicate";
      if (job.current_attempt !== attempt.id || !["assigned", "running"].includes(job.status)) {
        // Kept for the record (the first one only: a redelivery changes nothing), never applied.
        this.db
          .prepare("UPDATE attempts SET late_result = ? WHERE id = ? AND late_result IS NULL")
          .run(result.status, attempt.id);
        return "stale";
      }
      this.db
        .prepare(`UPDATE jobs SET status = @status, started_at = COALESCE(started_at, @startedAt),
                    finished_at = @finishedAt, exit_code = @exitCode, signal = @signal, peak_rss_bytes = @peak,
                    count_run = @run, count_failed = @failed, count_skipped = @skipped,
                    failed_tests = @failedTests, error = @error, limit_bytes = @limitBytes, limit_kind = @limitKind
                  WHERE id = @id AND current_attempt = @attemptId AND status IN ${ACTIVE}`)
        .run({
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
          failedTests: JSON.stringify(result.failedTests),
          error: result.error,
          limitBytes: result.limitBytes,
          limitKind: result.limitKind,
        });
      this.db
        .prepare("UPDATE attempts SET status = ?, finished_at = ? WHERE id = ?")
        .run(result.status, result.finishedAt, attempt.id);
      return "applied";
    })();
  }

  /** A queued job ends as canceled at once; true if it was still queued. */
  cancelQueued(jobId: number, now = new Date()): boolean {
    return (
      this.db
        .prepare(`UPDATE jobs SET status = 'canceled', finished_at = ?, held_reason = NULL, error = 'canceled on request'
                  WHERE id = ? AND status = 'queued'`)
        .run(now.toISOString(), jobId).changes > 0
    );
  }

  markCancelRequested(jobId: number): void {
    this.db.prepare("UPDATE jobs SET cancel_requested = 1 WHERE id = ?").run(jobId);
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
      this.db
        .prepare("UPDATE attempts SET status = 'lost', finished_at = ?, note = ? WHERE id = ?")
        .run(at, reason, attemptId);
      if (job.cancel_requested) {
        this.db
          .prepare(`UPDATE jobs SET status = 'canceled', finished_at = ?, error = ? WHERE id = ?`)
          .run(at, `canceled; ${reason}`, job.id);
        return JobStatus.canceled;
      }
      const counted = job.attempt_count - (this.uncountedAttempts.get(job.id)?.n ?? 0);
      if (counted >= maxAttempts) {
        this.db
          .prepare(`UPDATE jobs SET status = 'error', finished_at = ?, error = ? WHERE id = ?`)
          .run(at, `${reason}; gave up after ${counted} attempts`, job.id);
        return JobStatus.error;
      }
      this.db
        .prepare(`UPDATE jobs SET status = 'queued', agent = NULL, current_attempt = NULL, started_at = NULL,
                    held_reason = ? WHERE id = ?`)
        .run(`${reason}; waiting for another attempt`, job.id);
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
      this.db
        .prepare("UPDATE attempts SET status = 'handed_back', finished_at = ? WHERE id = ?")
        .run(at, attemptId);
      if (job.cancel_requested) {
        this.db
          .prepare(`UPDATE jobs SET status = 'canceled', finished_at = ?, error = ? WHERE id = ?`)
          .run(at, `canceled; ${reason}`, job.id);
        return JobStatus.canceled;
      }
      this.db
        .prepare(`UPDATE jobs SET status = 'queued', agent = NULL, current_attempt = NULL, started_at = NULL,
                    held_reason = ? WHERE id = ? AND current_attempt = ?`)
        .run(`${reason}; waiting for another agent`, job.id, attemptId);
      return JobStatus.queued;
    })();
  }
}
