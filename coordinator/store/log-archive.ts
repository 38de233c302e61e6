import { gunzipSync, gzip } from "node:zlib";
import type { LogLineResource } from "../../protocol/resources.ts";

/**
 * A line in an archive: [line_no, attempt_id, stream, text, at_ms?] (gzip takes care of the
 * repetition); archives made before lines had times have four elements.
 */
type ArchivedLine = [number, string, string, string, number?];

/**
 * A job's log as one gzip blob: JSON, an array of lines. gzip runs on libuv's thread pool, so
 * compressing a bigmem -v log of 100,000 lines does not hold the coordinator's event loop.
 */
export function compressLog(lines: readonly LogLineResource[]): Promise<Buffer> {
  const rows: ArchivedLine[] = lines.map((line) =>
    line.at === undefined
      ? [line.lineNo, line.attemptId, line.stream, line.text]
      : [line.lineNo, line.attemptId, line.stream, line.text, Date.parse(line.at)],
  );
  return new Promise((resolve, reject) =>
    gzip(JSON.stringify(rows), { level: 9 }, (error, blob) => (error ? reject(error) : resolve(blob))),
  );
}

/** The lines of a blob from compressLog. Synchronous: old logs are read rarely, and one at a time. */
export function decompressLog(blob: Buffer): LogLineResource[] {
  const rows = JSON.parse(gunzipSync(blob).toString("utf8")) as ArchivedLine[];
  return rows.map(([lineNo, attemptId, stream, text, atMs]) => ({
    lineNo,
    attemptId,
    stream,
    text,
    ...(atMs === undefined ? {} : { at: new Date(atMs).toISOString() }),
  }));
}
