import type { Statement } from "better-sqlite3";
import type { LogLine } from "../../protocol/messages.ts";
import type { LogLineResource } from "../../protocol/resources.ts";
import type { Db } from "./database.ts";

interface LogRow {
  line_no: number;
  attempt_id: string;
  stream: string;
  text: string;
}

/** A job's log: every line of every attempt, numbered from 1 across attempts. */
export class LogsStore {
  private readonly lastLine: Statement<[number], { last: number | null }>;
  private readonly insertLine: Statement;
  private readonly readLines: Statement<[number, number, number], LogRow>;
  private readonly readTail: Statement<[number, number], LogRow>;

  constructor(private readonly db: Db) {
    this.lastLine = db.prepare("SELECT MAX(line_no) AS last FROM log_lines WHERE job_id = ?");
    this.insertLine = db.prepare(
      "INSERT INTO log_lines (job_id, line_no, attempt_id, stream, text) VALUES (?, ?, ?, ?, ?)",
    );
    this.readLines = db.prepare(
      "SELECT line_no, attempt_id, stream, text FROM log_lines WHERE job_id = ? AND line_no > ? ORDER BY line_no LIMIT ?",
    );
    this.readTail = db.prepare(
      "SELECT line_no, attempt_id, stream, text FROM log_lines WHERE job_id = ? ORDER BY line_no DESC LIMIT ?",
    );
  }

  /** Appends lines in one transaction and returns them with their numbers. */
  append(jobId: number, attemptId: string, lines: LogLine[]): LogLineResource[] {
    return this.db.transaction(() => {
      let lineNo = this.lastLine.get(jobId)?.last ?? 0;
      return lines.map((line) => {
        lineNo += 1;
        this.insertLine.run(jobId, lineNo, attemptId, line.stream, line.text);
        return { lineNo, attemptId, stream: line.stream, text: line.text };
      });
    })();
  }

  /**
   * The last `limit` lines and the number of the last one (lines are numbered
   * from 1 without gaps, so it is also how many there are): a page shows a
   * bigmem -v log's tail without reading its tens of thousands of lines.
   */
  tail(jobId: number, limit: number): { lines: LogLineResource[]; lastLine: number } {
    const lines = this.readTail
      .all(jobId, limit)
      .reverse()
      .map((row) => ({ lineNo: row.line_no, attemptId: row.attempt_id, stream: row.stream, text: row.text }));
    return { lines, lastLine: lines.at(-1)?.lineNo ?? 0 };
  }

  /** Lines after `afterLine`, at most `limit`. */
  read(jobId: number, afterLine = 0, limit = 100_000): LogLineResource[] {
    return this.readLines.all(jobId, afterLine, limit).map((row) => ({
      lineNo: row.line_no,
      attemptId: row.attempt_id,
      stream: row.stream,
      text: row.text,
    }));
  }
}
