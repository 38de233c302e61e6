import type { Statement } from "better-sqlite3";
import type { TestRecord } from "../../protocol/messages.ts";
import type { TestResource } from "../../protocol/resources.ts";
import type { Db } from "./database.ts";

interface TestRow {
  attempt_id: string;
  kind: "file" | "case";
  name: string;
  outcome: TestRecord["outcome"];
  started_at: number | null;
  duration_seconds: number | null;
  peak_rss_bytes: number | null;
  peak_measured_by: string | null;
  detail: string | null;
}

/** Per-test results of a job; a later report of the same test in the same attempt replaces the earlier one. */
export class TestsStore {
  private readonly upsert: Statement;
  private readonly ofJob: Statement<{ jobId: number }, TestRow>;

  constructor(private readonly db: Db) {
    this.upsert = db.prepare(`
      INSERT INTO job_tests (job_id, attempt_id, kind, name, outcome, started_at, duration_seconds, peak_rss_bytes, peak_measured_by, detail)
      VALUES (@jobId, @attemptId, @kind, @name, @outcome, @startedAt, @durationSeconds, @peakRssBytes, @peakMeasuredBy, @detail)
      ON CONFLICT (job_id, attempt_id, kind, name) DO UPDATE SET
        outcome = excluded.outcome, started_at = excluded.started_at, duration_seconds = excluded.duration_seconds,
        peak_rss_bytes = excluded.peak_rss_bytes, peak_measured_by = excluded.peak_measured_by,
        detail = excluded.detail`);
    // The tests of the job's latest attempt that reported any.
    this.ofJob = db.prepare(`
      SELECT attempt_id, kind, name, outcome, started_at, duration_seconds, peak_rss_bytes, peak_measured_by, detail
      FROM job_tests
      WHERE job_id = @jobId AND attempt_id = (
        SELECT t.attempt_id FROM job_tests t JOIN attempts a ON a.id = t.attempt_id
        WHERE t.job_id = @jobId ORDER BY a.number DESC LIMIT 1)
      ORDER BY started_at IS NULL, started_at, kind DESC, name`);
  }

  record(jobId: number, attemptId: string, records: TestRecord[]): void {
    if (records.length === 0) return;
    this.db.transaction(() => {
      for (const record of records)
        this.upsert.run({ jobId, attemptId, ...record, peakMeasuredBy: record.peakMeasuredBy ?? null });
    })();
  }

  list(jobId: number): TestResource[] {
    return this.ofJob.all({ jobId }).map((row) => ({
      name: row.name,
      kind: row.kind,
      outcome: row.outcome,
      attemptId: row.attempt_id,
      startedAt: row.started_at === null ? null : new Date(row.started_at).toISOString(),
      durationSeconds: row.duration_seconds,
      peakRssBytes: row.peak_rss_bytes,
      peakMeasuredBy: row.peak_measured_by,
      detail: row.detail,
    }));
  }
}
