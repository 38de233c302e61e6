import type { Statement } from "better-sqlite3";
import type { LogLineResource } from "../../protocol/resources.ts";
import type { Db } from "./database.ts";

/** A job that still has raw samples or log lines, with what says whether it is old enough. */
export interface RetentionCandidate {
  jobId: number;
  /** Null while the job has not ended: retention never touches it then. */
  finishedAt: string | null;
  /** Already folded or archived, with rows left to delete. */
  done: boolean;
}

interface CandidateRow {
  id: number;
  finished_at: string | null;
  done: number;
}

const candidate = (row: CandidateRow | undefined): RetentionCandidate | null =>
  row ? { jobId: row.id, finishedAt: row.finished_at, done: row.done === 1 } : null;

/**
 * The statements of retention (coordinator/retention/): folding an old job's raw samples into
 * the per-minute summaries that charts read (migration 0008), archiving or dropping its log, and
 * deleting the rows either leaves, a bounded number per call so that no transaction holds the
 * database for long. Each step is its own transaction and can stop anywhere: the marks in
 * sample_folds and log_archives are written before any row goes, and readers follow them.
 */
export class RetentionStore {
  private readonly nextWithSamples: Statement<[number], CandidateRow>;
  private readonly nextWithLogs: Statement<[number], CandidateRow>;
  private readonly countSamples: Statement<[number], { n: number }>;
  private readonly countInMinutes: Statement<[number], { n: number | null }>;
  private readonly dropMinutes: Statement<[number]>;
  private readonly minutePeaks: Statement<[number]>;
  private readonly minuteRest: Statement<{ jobId: number }>;
  private readonly markFolded: Statement<[number, string, number]>;
  private readonly isFolded: Statement<[number], { job_id: number }>;
  private readonly deleteSamples: Statement<[number, number]>;
  private readonly readLog: Statement<
    [number],
    Omit<LogLineResource, "at"> & { atMs: number | null; bytes: number }
  >;
  private readonly lastLine: Statement<[number], { last: number | null }>;
  private readonly insertArchive: Statement;
  private readonly deleteLines: Statement<{ jobId: number; last: number; limit: number }>;
  private readonly dropCompressed: Statement<{ cutoff: string; limit: number }>;

  constructor(private readonly db: Db) {
    // Seeks on the (job_id, ...) indexes: the next job that has rows, not a scan of every job.
    this.nextWithSamples = db.prepare(`
      SELECT j.id, j.finished_at, EXISTS (SELECT 1 FROM sample_folds f WHERE f.job_id = j.id) AS done
      FROM (SELECT job_id FROM samples WHERE job_id > ? ORDER BY job_id LIMIT 1) s JOIN jobs j ON j.id = s.job_id`);
    this.nextWithLogs = db.prepare(`
      SELECT j.id, j.finished_at, EXISTS (SELECT 1 FROM log_archives a WHERE a.job_id = j.id) AS done
      FROM (SELECT job_id FROM log_lines WHERE job_id > ? ORDER BY job_id LIMIT 1) l JOIN jobs j ON j.id = l.job_id`);
    this.countSamples = db.prepare("SELECT COUNT(*) AS n FROM samples WHERE job_id = ?");
    this.countInMinutes = db.prepare("SELECT SUM(samples) AS n FROM sample_minutes WHERE job_id = ?");
    this.dropMinutes = db.prepare("DELETE FROM sample_minutes WHERE job_id = ?");
    // Migration 0008's backfill, for one job: the peak's time first (a single max() aggregate takes
    // `at` from the row with the maximum), the other columns in a second pass.
    this.minutePeaks = db.prepare(`
      INSERT INTO sample_minutes (job_id, minute, first_at, last_at, min_rss_bytes, max_rss_bytes, max_rss_at,
                                  min_cpu_percent, max_cpu_percent, max_processes, samples)
      SELECT job_id, at / 60000, 0, 0, 0, MAX(rss_bytes), at, 0, 0, 0, 0
      FROM samples WHERE job_id = ? GROUP BY at / 60000`);
    this.minuteRest = db.prepare(`
      UPDATE sample_minutes SET
        first_at = s.first_at, last_at = s.last_at, min_rss_bytes = s.min_rss, min_cpu_percent = s.min_cpu,
        max_cpu_percent = s.max_cpu, max_processes = s.max_processes, samples = s.n
      FROM (
        SELECT job_id, at / 60000 AS minute, MIN(at) AS first_at, MAX(at) AS last_at, MIN(rss_bytes) AS min_rss,
               MIN(cpu_percent) AS min_cpu, MAX(cpu_percent) AS max_cpu, MAX(processes) AS max_processes, COUNT(*) AS n
        FROM samples WHERE job_id = @jobId GROUP BY at / 60000
      ) AS s
      WHERE sample_minutes.job_id = s.job_id AND sample_minutes.minute = s.minute`);
    this.markFolded = db.prepare("INSERT INTO sample_folds (job_id, folded_at, samples) VALUES (?, ?, ?)");
    this.isFolded = db.prepare("SELECT job_id FROM sample_folds WHERE job_id = ?");
    this.deleteSamples = db.prepare(
      "DELETE FROM samples WHERE rowid IN (SELECT rowid FROM samples WHERE job_id = ? LIMIT ?)",
    );
    this.readLog = db.prepare(`
      SELECT line_no AS lineNo, attempt_id AS attemptId, stream, text, at_ms AS atMs, length(CAST(text AS BLOB)) AS bytes
      FROM log_lines WHERE job_id = ? ORDER BY line_no`);
    this.lastLine = db.prepare("SELECT MAX(line_no) AS last FROM log_lines WHERE job_id = ?");
    this.insertArchive = db.prepare(`
      INSERT INTO log_archives (job_id, action, archived_at, lines, text_bytes, gzip)
      VALUES (@jobId, @action, @archivedAt, @lines, @textBytes, @gzip)`);
    this.deleteLines = db.prepare(`
      DELETE FROM log_lines WHERE job_id = @jobId AND line_no <= @last AND line_no IN (
        SELECT line_no FROM log_lines WHERE job_id = @jobId ORDER BY line_no LIMIT @limit)`);
    // finished_at is ISO 8601 UTC throughout, so text order is time order.
    this.dropCompressed = db.prepare(`
      UPDATE log_archives SET action = 'dropped', gzip = NULL WHERE job_id IN (
        SELECT a.job_id FROM log_archives a JOIN jobs j ON j.id = a.job_id
        WHERE a.action = 'compressed' AND j.finished_at < @cutoff LIMIT @limit)`);
  }

  /** The first job after `afterJobId` (by id) that still has raw samples. */
  nextJobWithSamples(afterJobId: number): RetentionCandidate | null {
    return candidate(this.nextWithSamples.get(afterJobId));
  }

  /** The first job after `afterJobId` (by id) that still has log lines. */
  nextJobWithLogs(afterJobId: number): RetentionCandidate | null {
    return candidate(this.nextWithLogs.get(afterJobId));
  }

  /**
   * Marks the job folded (its minutes are checked to hold every sample, and rebuilt from them if
   * not) and deletes up to `maxRows` of its raw samples; returns how many went. Call again until 0.
   */
  foldSamples(jobId: number, maxRows: number, now: Date): number {
    return this.db.transaction(() => {
      // Counted once, when the job is marked: a six-day job's 500,000 rows take ~20 ms to count.
      if (!this.isFolded.get(jobId)) {
        const raw = this.countSamples.get(jobId)?.n ?? 0;
        if (raw === 0) return 0;
        this.markFolded.run(jobId, now.toISOString(), raw);
        if ((this.countInMinutes.get(jobId)?.n ?? 0) !== raw) {
          // Minutes kept by SamplesStore.append hold every sample; a store that somehow lacks some
          // (written by hand, restored from a partial copy) gets them from the samples before they go.
          this.dropMinutes.run(jobId);
          this.minutePeaks.run(jobId);
          this.minuteRest.run({ jobId });
        }
      }
      return this.deleteSamples.run(jobId, maxRows).changes;
    })();
  }

  /** Every line of a job's log, to compress, and the bytes of their text. */
  logOf(jobId: number): { lines: LogLineResource[]; textBytes: number } {
    let textBytes = 0;
    const lines = this.readLog.all(jobId).map(({ bytes, atMs, ...line }): LogLineResource => {
      textBytes += bytes;
      return atMs === null ? line : { ...line, at: new Date(atMs).toISOString() };
    });
    return { lines, textBytes };
  }

  /**
   * Records the job's log as compressed (`gzip` holds lines 1..`lines`) or dropped, unless lines
   * were added since they were read (then false, and nothing changes: try again later).
   */
  archiveLog(
    jobId: number,
    archive: { action: "compressed" | "dropped"; lines: number; textBytes: number; gzip: Buffer | null },
    now: Date,
  ): boolean {
    return this.db.transaction(() => {
      if ((this.lastLine.get(jobId)?.last ?? 0) !== archive.lines) return false;
      this.insertArchive.run({ jobId, archivedAt: now.toISOString(), ...archive });
      return true;
    })();
  }

  /**
   * Drops up to `limit` compressed logs of jobs that ended before `cutoff` (a farm switched from
   * --old-logs compress to drop); returns how many.
   */
  dropCompressedLogs(cutoff: Date, limit: number): number {
    return this.dropCompressed.run({ cutoff: cutoff.toISOString(), limit }).changes;
  }

  /** Deletes up to `maxRows` of an archived job's lines (those the archive holds); returns how many. */
  deleteArchivedLines(jobId: number, archivedLines: number, maxRows: number): number {
    return this.deleteLines.run({ jobId, last: archivedLines, limit: maxRows }).changes;
  }
}
