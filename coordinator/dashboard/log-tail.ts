import type { LogLineResource } from "../../protocol/resources.ts";

/** How much log text a job page inlines at most: the page stays small whatever the log holds. */
export const PAGE_LOG_CHARS = 192 * 1024;
/** A line longer than this is cut on the page (the download has it whole). */
export const PAGE_LINE_CHARS = 2048;

/** A log line as the page shows it: cut when long, saying by how much. */
export interface PageLogLine extends LogLineResource {
  /** Characters of the line the page leaves out (0 when it shows it whole). */
  cutChars: number;
}

/** A test's traceback or skip reason as a page shows it: its end, which says what failed. */
export const PAGE_DETAIL_CHARS = 8192;

export function pageDetail(detail: string | null): string | null {
  if (detail === null || detail.length <= PAGE_DETAIL_CHARS) return detail;
  return `… (${detail.length - PAGE_DETAIL_CHARS} characters before this are in the log)\n${detail.slice(-PAGE_DETAIL_CHARS)}`;
}

/**
 * The end of a log that fits in `budget` characters, newest lines kept: a test that prints one
 * huge line, or never a newline (the agent cuts those into 8 KiB lines), would otherwise make a
 * page of many megabytes. Returns the lines, oldest first, and how many were left out.
 */
export function pageLogTail(
  lines: LogLineResource[],
  budget = PAGE_LOG_CHARS,
  lineChars = PAGE_LINE_CHARS,
): { lines: PageLogLine[]; leftOut: number } {
  const kept: PageLogLine[] = [];
  let used = 0;
  for (let index = lines.length - 1; index >= 0; index -= 1) {
    const line = lines[index] as LogLineResource;
    const cutChars = Math.max(0, line.text.length - lineChars);
    const text = cutChars > 0 ? line.text.slice(0, lineChars) : line.text;
    if (used + text.length > budget && kept.length > 0) break;
    used += text.length + 1;
    kept.push({ ...line, text, cutChars });
  }
  return { lines: kept.reverse(), leftOut: lines.length - kept.length };
}
