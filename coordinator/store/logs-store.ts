import type { Statement } from "better-sqlite3";
import type { LogLine } from "../../protocol/messages.ts";
import type { LogArchiveResource, LogLineResource } from "../../protocol/resources.ts";
import type { Db } from "./database.ts";
import { decompressLog } from "./log-archive.ts";

interface LogRow {
  line_no: number;
  attempt_id: string;
  stream: string;
  text: string;
  at_ms: number | null;
}

interface ArchiveRow {
  action: "compressed" | "dropped";
  archived_at: string;
  lines: number;
  gzip: Buffer | null;
}

const resource = (row: LogRow): LogLineResource => ({
  lineNo: row.line_no,
  attemptId: row.attempt_id,
  stream: row.stream,
  text: row.text,
  ...(row.at_ms === null ? {} : { at: new Date(row.at_ms).toISOString() }),
});

/**
 * A job's log: every line of every attempt, numbered from 1 across attempts. An old job's log may
 * have been compressed into one blob or dropped by retention (log_archives): reads then come from
 * the blob, and any rows still in log_lines up to the archive's last line are leftovers a later
 * retention batch deletes.
 */
export class LogsStore {
  private readonly lastLine: Statement<{ jobId: number }, { last: number | null }>;
  private readonly insertLine: Statement;
  private readonly readLines: Statement<[number, number, number], LogRow>;
  private readonly readTail: Statement<[number, number], LogRow>;
  private readonly readArchive: Statement<[number], ArchiveRow>;
  private readonly readSystem: Statement<[number, number], LogRow>;
  /** The last blob read, decompressed: a log page and its download read the same one in a row. */
  private cached: { jobId: number; lines: LogLineResource[] } | null = null;

  constructor(private readonly db: Db) {
    this.lastLine = db.prepare(`
      SELECT MAX(COALESCE((SELECT MAX(line_no) FROM log_lines WHERE job_id = @jobId), 0),
                 COALESCE((SELECT lines FROM log_archives WHERE job_id = @jobId), 0)) AS last`);
    this.insertLine = db.prepare(
      "INSERT INTO log_lines (job_id, line_no, attempt_id, stream, text, at_ms) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.readLines = db.prepare(
      "SELECT line_no, attempt_id, stream, text, at_ms FROM log_lines WHERE job_id = ? AND line_no > ? ORDER BY line_no LIMIT ?",
    );
    this.readTail = db.prepare(
      "SELECT line_no, attempt_id, stream, text, at_ms FROM log_lines WHERE job_id = ? ORDER BY line_no DESC LIMIT ?",
    );
    // Within the job's range of the primary key: a 100,000-line log is read once, not sorted.
    this.readSystem = db.prepare(
      "SELECT line_no, attempt_id, stream, text, at_ms FROM log_lines WHERE job_id = ? AND stream = 'system' ORDER BY line_no LIMIT ?",
    );
    this.readArchive = db.prepare(
      "SELECT action, archived_at, lines, gzip FROM log_archives WHERE job_id = ?",
    );
  }

  /** Appends lines in one transaction and returns them with their numbers. */
  append(jobId: number, attemptId: string, lines: LogLine[]): LogLineResource[] {
    return this.db.transaction(() => {
      let lineNo = this.lastLine.get({ jobId })?.last ?? 0;
      return lines.map((line) => {
        lineNo += 1;
        this.insertLine.run(jobId, lineNo, attemptId, line.stream, line.text, line.at ?? null);
        return {
          lineNo,
          attemptId,
          stream: line.stream,
          text: line.text,
          ...(line.at === undefined ? {} : { at: new Date(line.at).toISOString() }),
        };
      });
    })();
  }

  /** What retention did to the job's log, or null while it is stored line by line. */
  archive(jobId: number): LogArchiveResource | null {
    const row = this.readArchive.get(jobId);
    return row ? { action: row.action, archivedAt: row.archived_at, lines: row.lines } : null;
  }

  /**
   * The last `limit` lines and the number of the last one (lines are numbered
   * from 1 without gaps, so it is also how many there are): a page shows a
   * bigmem -v log's tail without reading its tens of thousands of lines.
   */
  tail(jobId: number, limit: number): { lines: LogLineResource[]; lastLine: number } {
    const archive = this.readArchive.get(jobId);
    if (archive) {
      const lines = this.archivedThenLive(jobId, archive, 0).slice(-limit);
      return { lines, lastLine: lines.at(-1)?.lineNo ?? 0 };
    }
    const lines = this.readTail.all(jobId, limit).reverse().map(resource);
    return { lines, lastLine: lines.at(-1)?.lineNo ?? 0 };
  }

  /** The agent's own lines (the commands it ran, what it did), oldest first, at most `limit`. */
  systemLines(jobId: number, limit = 2000): LogLineResource[] {
    const archive = this.readArchive.get(jobId);
    if (archive) {
      return this.archivedThenLive(jobId, archive, 0)
        .filter((line) => line.stream === "system")
        .slice(0, limit);
    }
    return this.readSystem.all(jobId, limit).map(resource);
  }

  /** Lines after `afterLine`, at most `limit`. */
  read(jobId: number, afterLine = 0, limit = 100_000): LogLineResource[] {
    const archive = this.readArchive.get(jobId);
    if (archive) return this.archivedThenLive(jobId, archive, afterLine).slice(0, limit);
    return this.readLines.all(jobId, afterLine, limit).map(resource);
  }

  /** An archived log's lines after `afterLine`, then any written after it was archived. */
  private archivedThenLive(jobId: number, archive: ArchiveRow, afterLine: number): LogLineResource[] {
    const archived = archive.gzip ? this.decompressed(jobId, archive.gzip) : [];
    const later = this.readLines
      .all(jobId, Math.max(afterLine, archive.lines), Number.MAX_SAFE_INTEGER)
      .map(resource);
    return [...archived.filter((line) => line.lineNo > afterLine), ...later];
  }

  private decompressed(jobId: number, blob: Buffer): LogLineResource[] {
    if (this.cached?.jobId !== jobId) this.cached = { jobId, lines: decompressLog(blob) };
    return this.cached.lines;
  }
}
