import type { LogLineResource } from "../../protocol/resources.ts";

/** A line that says something failed: regrtest's and unittest's words for it, and the agent's errors. */
const FAILURE =
  /^(?:FAIL|ERROR): |\b(?:failed|crashed|timed out|leaked|worker non-zero exit code)\b|Fatal Python error:|^error: |^Timeout \(\d+:\d\d:\d\d\)!|\.\.\. (?:FAIL|ERROR)$/;
const TRACEBACK = /Traceback \(most recent call last\):|Fatal Python error: |^Timeout \(\d+:\d\d:\d\d\)!/;

/**
 * The failures-only view of a log: the lines that say something failed, and every traceback
 * whole (from `Traceback (most recent call last):` through its indented frames to the exception
 * line; faulthandler's stacks through their blank-line-separated threads).
 */
export function failureLines(lines: readonly LogLineResource[]): LogLineResource[] {
  const kept: LogLineResource[] = [];
  let inTraceback: "python" | "fatal" | null = null;
  for (const line of lines) {
    const text = line.text;
    if (inTraceback !== null) {
      const indented = /^\s/.test(text) && text.trim() !== "";
      if (inTraceback === "python" && indented) {
        kept.push(line);
        continue;
      }
      if (inTraceback === "python") {
        inTraceback = null;
        // The exception line (`ValueError: boom`) ends it and is part of it.
        if (text.trim() !== "") {
          kept.push(line);
          continue;
        }
      } else if (indented || text === "" || /^(?:Current thread|Thread) 0x|^Extension modules:/.test(text)) {
        kept.push(line);
        continue;
      } else {
        inTraceback = null;
      }
    }
    const traceback = TRACEBACK.exec(text);
    if (traceback) {
      inTraceback = traceback[0].startsWith("Traceback") ? "python" : "fatal";
      kept.push(line);
    } else if (FAILURE.test(text)) {
      kept.push(line);
    }
  }
  return kept;
}
