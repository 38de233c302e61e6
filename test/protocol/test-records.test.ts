import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ValidationError } from "../../protocol/errors.ts";
import { parseReport } from "../../protocol/messages.ts";

function progressWith(test: Record<string, unknown>): string {
  return JSON.stringify({
    kind: "progress",
    attemptId: "7-1",
    seq: 1,
    started: true,
    log: [],
    samples: [],
    tests: [{ name: "test_bigmem", kind: "file", outcome: "passed", peakRssBytes: 1024, ...test }],
  });
}

describe("test records: how a peak was measured", () => {
  it("keeps peakMeasuredBy when an agent sends it", () => {
    const report = parseReport(progressWith({ peakMeasuredBy: "worker-cgroup" }));
    assert.equal(report.kind, "progress");
    assert.equal(report.kind === "progress" && report.tests[0]?.peakMeasuredBy, "worker-cgroup");
  });

  it("accepts a record without it (agents before it)", () => {
    const report = parseReport(progressWith({}));
    assert.ok(report.kind === "progress");
    assert.equal(report.tests[0]?.peakRssBytes, 1024);
    assert.equal("peakMeasuredBy" in (report.tests[0] ?? {}), false);
  });

  it("refuses a way of measuring it does not know, naming the ones it does", () => {
    assert.throws(
      () => parseReport(progressWith({ peakMeasuredBy: "guess" })),
      (error: unknown) =>
        error instanceof ValidationError &&
        /tests\[\]\.peakMeasuredBy "guess" is not known; use one of cgroup, worker-cgroup/.test(
          error.message,
        ),
    );
  });
});
