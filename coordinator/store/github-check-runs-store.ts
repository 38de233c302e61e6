import type { Statement } from "better-sqlite3";
import type { Db } from "./database.ts";

export type Reported = "none" | "in_progress" | "completed";

/** A job the bot queued and what GitHub knows of it so far. */
export interface CheckRunRecord {
  jobId: number;
  repository: string;
  prNumber: number;
  headSha: string;
  installationId: number | null;
  checkRunId: number | null;
  reported: Reported;
  commentPosted: boolean;
  failures: number;
}

interface Row {
  job_id: number;
  repository: string;
  pr_number: number;
  head_sha: string;
  installation_id: number | null;
  check_run_id: number | null;
  reported: Reported;
  comment_posted: number;
  failures: number;
}

/**
 * The bot's outbox: one row per job it queued, saying what GitHub has been
 * told. The job's status is the truth; a row whose `reported` lags behind it
 * is work for the feedback sync, retried with backoff until GitHub takes it.
 */
export class CheckRunsStore {
  private readonly insertStatement: Statement;
  private readonly dueStatement: Statement<[string], Row>;
  private readonly byJob: Statement<[number], Row>;
  private readonly reportedStatement: Statement;
  private readonly commentStatement: Statement<[number]>;
  private readonly failedStatement: Statement;

  constructor(db: Db) {
    this.insertStatement = db.prepare(`
      INSERT INTO github_check_runs (job_id, repository, pr_number, head_sha, installation_id, next_attempt_at)
      VALUES (@jobId, @repository, @prNumber, @headSha, @installationId, @now)`);
    this.dueStatement = db.prepare(`
      SELECT * FROM github_check_runs
      WHERE gave_up = 0 AND (reported != 'completed' OR comment_posted = 0) AND next_attempt_at <= ?
      ORDER BY job_id`);
    this.byJob = db.prepare("SELECT * FROM github_check_runs WHERE job_id = ?");
    this.reportedStatement = db.prepare(`
      UPDATE github_check_runs SET reported = @reported, check_run_id = @checkRunId, failures = 0, last_error = NULL
      WHERE job_id = @jobId`);
    this.commentStatement = db.prepare(
      "UPDATE github_check_runs SET comment_posted = 1, failures = 0, last_error = NULL WHERE job_id = ?",
    );
    this.failedStatement = db.prepare(`
      UPDATE github_check_runs SET failures = failures + 1, last_error = @error, next_attempt_at = @nextAt,
        gave_up = @gaveUp
      WHERE job_id = @jobId`);
  }

  add(record: Omit<CheckRunRecord, "checkRunId" | "reported" | "commentPosted" | "failures">): void {
    this.insertStatement.run({ ...record, now: new Date().toISOString() });
  }

  get(jobId: number): CheckRunRecord | null {
    const row = this.byJob.get(jobId);
    return row ? toRecord(row) : null;
  }

  /** Rows GitHub is behind on whose retry time has come. */
  due(now = new Date()): CheckRunRecord[] {
    return this.dueStatement.all(now.toISOString()).map(toRecord);
  }

  markReported(jobId: number, reported: Reported, checkRunId: number): void {
    this.reportedStatement.run({ jobId, reported, checkRunId });
  }

  markCommentPosted(jobId: number): void {
    this.commentStatement.run(jobId);
  }

  markFailed(jobId: number, error: string, nextAt: Date, gaveUp: boolean): void {
    this.failedStatement.run({ jobId, error, nextAt: nextAt.toISOString(), gaveUp: gaveUp ? 1 : 0 });
  }
}

function toRecord(row: Row): CheckRunRecord {
  return {
    jobId: row.job_id,
    repository: row.repository,
    prNumber: row.pr_number,
    headSha: row.head_sha,
    installationId: row.installation_id,
    checkRunId: row.check_run_id,
    reported: row.reported,
    commentPosted: row.comment_posted === 1,
    failures: row.failures,
  };
}
