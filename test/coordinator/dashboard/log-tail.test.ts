import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PAGE_DETAIL_CHARS, pageDetail, pageLogTail } from "../../../coordinator/dashboard/log-tail.ts";
import type { LogLineResource } from "../../../protocol/resources.ts";

const line = (lineNo: number, text: string): LogLineResource => ({
  lineNo,
  attemptId: "1-1",
  stream: "stdout",
  text,
});

describe("the log tail a job page shows", () => {
  it("keeps the newest lines within the budget and cuts long ones, saying by how much", () => {
    const lines = [line(1, "a".repeat(100)), line(2, "b".repeat(5000)), line(3, "c".repeat(10))];
    const { lines: shown, leftOut } = pageLogTail(lines, 2100, 2048);
    assert.deepEqual(
      shown.map((one) => [one.lineNo, one.text.length, one.cutChars]),
      [
        [2, 2048, 5000 - 2048],
        [3, 10, 0],
      ],
    );
    assert.equal(leftOut, 1);
  });

  it("shows at least the last line, however long", () => {
    assert.equal(pageLogTail([line(1, "x".repeat(10_000))], 10, 2048).lines.length, 1);
  });

  it("cuts a huge traceback to its end, which says what failed", () => {
    const detail = `${"frame\n".repeat(5000)}AssertionError: boom`;
    const shown = pageDetail(detail) ?? "";
    assert.ok(shown.length < PAGE_DETAIL_CHARS + 100);
    assert.match(shown, /^… \(\d+ characters before this are in the log\)/);
    assert.match(shown, /AssertionError: boom$/);
    assert.equal(pageDetail("short"), "short");
    assert.equal(pageDetail(null), null);
  });
});
