import type { Statement } from "better-sqlite3";
import { JobStatus, type Priority } from "../../protocol/job-status.ts";
import type { JobResource, Provenance } from "../../protocol/resources.ts";
import type { PastRun } from "../jobs/learned-reservation.ts";
import type { Db } from "./database.ts";
import { type AttemptRow, type JobRow, toJobResource } from "./job-rows.ts";
import { cachedPrepare } from "./statement-cache.ts";

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
  /**
   * Jobs the PR bot queued for this repository (`owner/name`) and, optionally, pull request; a pull
   * request alone also matches jobs that build its `pull/N/head` or `pull/N/merge` ref.
   */
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

export const ACTIVE = `('${JobStatus.assigned}', '${JobStatus.running}')`;

/**
 * Jobs and their attempts as the API, the scheduler and the PR bot read them; a new job's row.
 * Their state changes are in job-states-store.ts.
 */
export class JobsStore {
  private readonly insertStatement: Statement;
  private readonly byId: Statement<[number], JobRow>;
  private readonly attemptsOf: Statement<[number], AttemptRow>;
  private readonly attemptById: Statement<[string], AttemptRow>;
  private readonly queuedStatement: Statement<[], JobRow>;
  private readonly reservedStatement: Statement<[], { agent: string; bytes: number }>;
  private readonly activeOfAgent: Statement<[string], ActiveAttempt>;
  private readonly currentActive: Statement<[number, string], { id: number }>;
  private readonly latestVerdict: Statement<
    { suite: string; repo: string; ref: string; before: number },
    { id: number; commit_sha: string | null }
  >;

  /** Statements compiled once, for the methods that prepare theirs where they run them. */
  private readonly sql: Db["prepare"];

  constructor(db: Db) {
    this.sql = cachedPrepare(db);
    this.insertStatement = db.prepare(`
      INSERT INTO jobs (suite, status, priority, memlimit_bytes, reservation_bytes, python, ref, repo, configure_flags,
                        no_output_timeout_seconds, exclusive, scheduled_bytes, tests, labels, provenance, args,
                        timeout_seconds, created_at, watch)
      VALUES (@suite, 'queued', @priority, @memlimitBytes, @reservationBytes, @python, @ref, @repo, @configureFlags,
              @noOutputTimeoutSeconds, @exclusive, @scheduledBytes, @tests, @labels, @provenance, @args,
              @timeoutSeconds, @createdAt, @watch)`);
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
      watch: job.provenance.watch ?? null,
      args: JSON.stringify(job.args),
      createdAt: now.toISOString(),
    });
    return this.get(Number(info.lastInsertRowid)) as JobResource;
  }

  get(id: number): JobResource | null {
    const row = this.byId.get(id);
    return row ? toJobResource(row, this.attemptsOf.all(id)) : null;
  }

  /** The WHERE clause and its parameters for a list's filters. */
  private whereOf(filter: Omit<JobFilter, "limit">): { clause: string; params: unknown[] } {
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
      // The PR bot's jobs, and those submitted by hand with --ref pull/N/head (or /merge).
      where.push("(json_extract(provenance, '$.pullRequest.number') = ? OR ref IN (?, ?))");
      params.push(filter.pullRequest, `pull/${filter.pullRequest}/head`, `pull/${filter.pullRequest}/merge`);
    }
    if (filter.before !== undefined) {
      where.push("id < ?");
      params.push(filter.before);
    }
    return { clause: where.length ? `WHERE ${where.join(" AND ")}` : "", params };
  }

  list(filter: JobFilter): { jobs: JobResource[]; nextCursor: string | null } {
    const { clause, params } = this.whereOf(filter);
    const sql = `SELECT * FROM jobs ${clause} ORDER BY id DESC LIMIT ?`;
    const rows = this.sql<unknown[], JobRow>(sql).all(...params, filter.limit + 1);
    const page = rows.slice(0, filter.limit);
    const last = page.at(-1);
    return {
      jobs: page.map((row) => toJobResource(row, this.attemptsOf.all(row.id))),
      nextCursor: rows.length > filter.limit && last ? String(last.id) : null,
    };
  }

  /** How many jobs the other filters match, per status (the job list's filter links); a status absent has none. */
  countByStatus(filter: Omit<JobFilter, "limit" | "status" | "before">): Record<string, number> {
    const { clause, params } = this.whereOf(filter);
    const sql = `SELECT status, COUNT(*) AS count FROM jobs ${clause} GROUP BY status`;
    const rows = this.sql<unknown[], { status: string; count: number }>(sql).all(...params);
    return Object.fromEntries(rows.map((row) => [row.status, row.count]));
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
    return this.sql<[], JobRow & { assigned_at: string | null }>(
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
    const rows = this.sql<[], { agent: string; id: number }>(
      `SELECT agent, id FROM jobs WHERE status IN ${ACTIVE} AND agent IS NOT NULL ORDER BY id`,
    ).all();
    for (const row of rows) byAgent.set(row.agent, [...(byAgent.get(row.agent) ?? []), row.id]);
    return byAgent;
  }

  /**
   * The latest finished runs of a suite at a memlimit that reported a peak
   * (passed or failed: an OOM or a timeout says little about what a run needs); with
   * `reservationBytes`, only runs that declared the same (as many workers).
   */
  pastRuns(suite: string, memlimitBytes: number | null, limit = 50, reservationBytes?: number): PastRun[] {
    return this.sql<
      [string, number | null, number | null, number | null, number],
      { peak: number; started: string; finished: string }
    >(
      `SELECT peak_rss_bytes AS peak, started_at AS started, finished_at AS finished FROM jobs
         WHERE suite = ? AND memlimit_bytes IS ? AND (? IS NULL OR reservation_bytes = ?)
           AND status IN ('passed', 'failed')
           AND peak_rss_bytes IS NOT NULL AND started_at IS NOT NULL AND finished_at IS NOT NULL
         ORDER BY id DESC LIMIT ?`,
    )
      .all(suite, memlimitBytes, reservationBytes ?? null, reservationBytes ?? null, limit)
      .map((row) => ({
        peakRssBytes: row.peak,
        durationMs: Date.parse(row.finished) - Date.parse(row.started),
      }));
  }

  /** Number of jobs by status, suite and priority, for /metrics (a handful of each: bounded labels). */
  countByStatusSuiteAndPriority(): { status: string; suite: string; priority: string; n: number }[] {
    return this.sql<[], { status: string; suite: string; priority: string; n: number }>(
      "SELECT status, suite, priority, COUNT(*) AS n FROM jobs GROUP BY status, suite, priority",
    ).all();
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
}
