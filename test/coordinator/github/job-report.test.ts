import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { grownTests } from "../../../coordinator/github/base-comparison.ts";
import { conclusionFor, reportSummary } from "../../../coordinator/github/job-report.ts";
import type { JobResource, TestResource } from "../../../protocol/resources.ts";

const GiB = 1024 ** 3;

function job(fields: Partial<JobResource>): JobResource {
  return {
    id: 7,
    suite: "bigmem",
    status: "passed",
    memlimitBytes: 60 * GiB,
    limitBytes: 244 * GiB,
    limitKind: "cgroup-v2",
    peakRssBytes: 12 * GiB,
    durationSeconds: 5400,
    failedTests: [],
    counts: { run: 10, failed: 0, skipped: 1 },
    commit: "a".repeat(40),
    ref: "pull/1/head",
    provenance: { source: "github", requester: "github:me" },
    timeoutSeconds: 43200,
    noOutputTimeoutSeconds: 7200,
    error: null,
    exitCode: 0,
    ...fields,
  } as JobResource;
}

const test = (name: string, peakRssBytes: number): TestResource => ({
  name,
  kind: "file",
  outcome: "passed",
  attemptId: "a1",
  startedAt: null,
  durationSeconds: 1,
  peakRssBytes,
  peakMeasuredBy: "cgroup",
  detail: null,
});

describe("the check run's report", () => {
  it("maps every final status to the conclusion DESIGN.md fixes", () => {
    assert.deepEqual(
      (["passed", "failed", "oom", "timed_out", "canceled", "error"] as const).map(conclusionFor),
      ["success", "failure", "failure", "failure", "cancelled", "neutral"],
    );
  });

  it("explains an OOM, lists failing tests and the tests that grew by 5% or more", () => {
    const summary = reportSummary({
      job: job({ status: "oom", failedTests: ["test_bigmem"] }),
      tests: [test("test_bigmem", 50 * GiB), test("test_array", 2 * GiB)],
      comparison: {
        baseJobId: 3,
        baseCommit: "b".repeat(40),
        grown: [{ test: "test_bigmem", baseBytes: 40 * GiB, prBytes: 50 * GiB }],
      },
      baseRef: "main",
      jobUrl: "https://farm.example/jobs/7",
    });
    assert.match(summary, /out of memory: .*memory limit of 244\.0 GiB/);
    assert.match(summary, /- `test_bigmem`/);
    assert.match(summary, /\| `test_bigmem` \| 40\.0 GiB \| 50\.0 GiB \| \+25% \|/);
  });

  it("counts growth only from 5% up, for tests measured in both jobs", () => {
    const grown = grownTests(
      [test("test_a", 100), test("test_b", 100), test("test_c", 100)],
      [test("test_a", 104), test("test_b", 105), test("test_new", 500)],
    );
    assert.deepEqual(
      grown.map((g) => g.test),
      ["test_b"],
    );
  });
});
