import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareTests } from "../../../coordinator/dashboard/compare-tests.ts";
import { explainOutcome } from "../../../coordinator/dashboard/explain-outcome.ts";
import { hostBar } from "../../../coordinator/dashboard/host-bar.ts";
import { hostFactRows, labelsText } from "../../../coordinator/dashboard/host-page.ts";
import { jobTimeline } from "../../../coordinator/dashboard/job-timeline.ts";
import { noSamplesText } from "../../../coordinator/dashboard/no-samples-text.ts";
import { readTestSort, sortLink, sortTests } from "../../../coordinator/dashboard/test-table.ts";
import { filterQuery, readJobListFilter } from "../../../coordinator/http/job-list-filter.ts";
import { fmt, jsonForScript } from "../../../coordinator/http/view-format.ts";
import type { AgentResource, JobResource, TestResource } from "../../../protocol/resources.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

function testResult(
  name: string,
  peakRssBytes: number | null,
  extra: Partial<TestResource> = {},
): TestResource {
  return {
    name,
    kind: "file",
    outcome: "passed",
    attemptId: "1-1",
    startedAt: null,
    durationSeconds: null,
    peakRssBytes,
    peakMeasuredBy: null,
    detail: null,
    ...extra,
  };
}

describe("view helpers", () => {
  it("escapes < > & in JSON inlined into a page", () => {
    const text = jsonForScript({ text: "</script><b>&" });
    assert.ok(!/[<>&]/.test(text), text);
    assert.deepEqual(JSON.parse(text), { text: "</script><b>&" });
  });

  it("formats durations, changes and counts", () => {
    assert.equal(fmt.duration(4.04), "4.0 s");
    assert.equal(fmt.duration(185), "3 min 5 s");
    assert.equal(fmt.duration(7800), "2 h 10 min");
  });

  it("rounds a duration before it splits it, so no unit reads 60", () => {
    assert.equal(fmt.duration(419.6), "7 min 0 s", "not 6 min 60 s");
    assert.equal(fmt.duration(359.5), "6 min 0 s");
    assert.equal(fmt.duration(359.4), "5 min 59 s");
    assert.equal(fmt.duration(59.96), "1 min 0 s", "not 60.0 s");
    assert.equal(fmt.duration(59.94), "59.9 s");
    assert.equal(fmt.duration(3599.6), "1 h 0 min", "not 59 min 60 s");
    assert.equal(fmt.duration(7199), "2 h 0 min", "not 1 h 60 min");
    assert.equal(fmt.duration(0), "0.0 s");
    assert.equal(fmt.duration(Number.NaN), "-");
    assert.equal(fmt.duration(null), "-");
    assert.equal(fmt.percent(0.05), "+5.0 %");
    assert.equal(fmt.percent(-0.125), "-12.5 %");
    assert.equal(fmt.percent(null), "-");
    assert.equal(fmt.counts({ run: 3, failed: 1, skipped: 0 }), "3 run, 1 failed, 0 skipped");
  });

  it("reads the job list's filters, a PR number as its ref, and drops junk", () => {
    const filter = readJobListFilter(
      { status: "running", suite: "bigmem", host: "arm-1", ref: "#12345", cursor: "99" },
      ["bigmem"],
    );
    assert.deepEqual(filter, {
      status: "running",
      suite: "bigmem",
      agent: "arm-1",
      ref: "pull/12345/head",
      cursor: 99,
    });
    assert.equal(readJobListFilter({ ref: "PR 7" }, []).ref, "pull/7/head");
    assert.equal(readJobListFilter({ ref: "1234567" }, []).ref, "1234567", "seven digits may be a commit");
    assert.deepEqual(
      readJobListFilter({ status: "nope", suite: "x", host: "-a", ref: "a b", cursor: "1e3" }, []),
      {},
    );
    assert.equal(
      filterQuery(filter, "42"),
      "status=running&suite=bigmem&host=arm-1&ref=pull%2F12345%2Fhead&cursor=42",
    );
  });

  it("sorts tests by peak, largest first, with unmeasured tests last either way", () => {
    const tests = [testResult("b", 2 * MiB), testResult("a", null), testResult("c", 9 * MiB)];
    assert.deepEqual(
      sortTests(tests, readTestSort(undefined)).map((test) => test.name),
      ["c", "b", "a"],
    );
    assert.deepEqual(
      sortTests(tests, readTestSort("peak")).map((test) => test.name),
      ["b", "c", "a"],
    );
    assert.deepEqual(
      sortTests(tests, readTestSort("name")).map((test) => test.name),
      ["a", "b", "c"],
    );
    assert.equal(sortLink(readTestSort("-peak"), "peak"), "peak", "the same column flips");
    assert.equal(sortLink(readTestSort("-peak"), "name"), "-name");
  });

  it("highlights tests whose peak grew by 5 % or more", () => {
    const rows = compareTests(
      [testResult("test_a", 100 * MiB), testResult("test_b", 100 * MiB), testResult("test_gone", MiB)],
      [testResult("test_a", 105 * MiB), testResult("test_b", 104 * MiB), testResult("test_new", MiB)],
    );
    assert.deepEqual(
      rows.map((row) => [row.name, row.grew]),
      [
        ["test_a", true],
        ["test_b", false],
        ["test_gone", false],
        ["test_new", false],
      ],
    );
    assert.equal(rows.find((row) => row.name === "test_new")?.basePeakBytes, null);
  });

  it("splits a host's memory into used, reserved, free and headroom", () => {
    const bar = hostBar({
      memoryBytes: 16 * GiB,
      capacityBytes: 14 * GiB,
      usedBytes: 2 * GiB,
      reservedBytes: 6 * GiB,
    } as AgentResource);
    assert.equal(bar.freeBytes, 8 * GiB);
    assert.deepEqual(
      [bar.usedPercent, bar.reservedUnusedPercent, bar.freePercent, bar.headroomPercent],
      [12.5, 25, 50, 12.5],
    );
    assert.equal(bar.overcommitted, false);
  });

  const baseJob = {
    id: 3,
    createdAt: "2026-01-01T00:00:00.000Z",
    startedAt: "2026-01-01T00:01:00.000Z",
    finishedAt: "2026-01-01T00:09:00.000Z",
    provenance: { source: "cli", requester: "alice" },
    memlimitBytes: 2 * GiB,
    reservationBytes: 2 * GiB,
    limitBytes: 2 * GiB,
    limitKind: "cgroup-v2",
    peakRssBytes: 2 * GiB,
    timeoutSeconds: 600,
    noOutputTimeoutSeconds: 300,
    error: null,
  };

  it("shows an SSH host's facts in words, known facts first, a missing tool as missing", () => {
    const rows = hostFactRows({
      future: "kept",
      nodePath: null,
      memoryBytes: 16 * GiB,
      cgroupMemory: false,
      arch: "aarch64",
    });
    assert.deepEqual(rows, [
      { label: "Architecture", value: "aarch64" },
      { label: "Memory", value: fmt.bytes(16 * GiB) },
      { label: "cgroup memory controller", value: "no" },
      { label: "Node.js", value: "missing" },
      { label: "future", value: "kept" },
    ]);
    assert.deepEqual(hostFactRows(null), []);
    assert.equal(labelsText({ pool: "bigmem", os: "debian" }), "pool=bigmem, os=debian");
    assert.equal(labelsText({}), "-");
  });

  it("explains an OOM and a timeout in words, naming the last test that started", () => {
    const tests = [
      testResult("test_bigmem", null, { startedAt: "2026-01-01T00:02:00.000Z" }),
      testResult("test_lzma", null, { startedAt: "2026-01-01T00:05:00.000Z" }),
    ];
    const oom = explainOutcome({ ...baseJob, status: "oom" } as JobResource, tests) ?? "";
    assert.match(oom, /^Out of memory: .*limit of 2\.0 GiB/);
    assert.match(oom, /kernel's OOM killer/);
    assert.match(oom, /The last test file to start was test_lzma\./);
    const timedOut =
      explainOutcome({ ...baseJob, status: "timed_out", error: "no output" } as JobResource, tests) ?? "";
    assert.match(
      timedOut,
      /^Timed out \(no output\): the job had a wall-clock limit of 10 min 0 s and at most 5 min 0 s without output/,
    );
    assert.equal(explainOutcome({ ...baseJob, status: "passed" } as JobResource, tests), null);
  });

  it("builds a timeline with a lost attempt, its note and a late result", () => {
    const timeline = jobTimeline({
      ...baseJob,
      status: "passed",
      attempts: [
        {
          id: "3-1",
          number: 1,
          agent: "a1",
          status: "lost",
          startedAt: "2026-01-01T00:00:10.000Z",
          finishedAt: "2026-01-01T00:00:50.000Z",
          note: "agent a1 was lost",
          lateResult: "passed",
        },
        {
          id: "3-2",
          number: 2,
          agent: "a2",
          status: "passed",
          startedAt: "2026-01-01T00:00:55.000Z",
          finishedAt: "2026-01-01T00:09:00.000Z",
          note: null,
          lateResult: null,
        },
      ],
    } as unknown as JobResource);
    assert.deepEqual(
      timeline.map((entry) => entry.state),
      ["queued", "assigned", "lost", "assigned", "running", "passed"],
    );
    assert.match(timeline[2]?.text ?? "", /agent a1 was lost.*late result, passed/);
  });

  it("does not say an error job's tests started, nor that its samples are yet to come", () => {
    const errorJob = {
      ...baseJob,
      status: "error",
      error: "make failed",
      counts: null,
      startedAt: "2026-01-01T00:00:11.000Z",
      finishedAt: "2026-01-01T00:03:00.000Z",
      attempts: [
        {
          id: "4-1",
          number: 1,
          agent: "a1",
          status: "error",
          startedAt: "2026-01-01T00:00:10.000Z",
          finishedAt: "2026-01-01T00:03:00.000Z",
          note: "make failed",
          lateResult: null,
        },
      ],
    } as unknown as JobResource;
    const texts = jobTimeline(errorJob).map((entry) => entry.text);
    assert.ok(!texts.some((text) => /tests started/.test(text)), texts.join("\n"));
    assert.ok(
      texts.some((text) => /no test ran/.test(text)),
      texts.join("\n"),
    );
    assert.doesNotMatch(noSamplesText(errorJob), /yet/);
    assert.match(noSamplesText(errorJob), /could not run the tests/);
    assert.match(noSamplesText({ ...errorJob, status: "running" } as JobResource), /yet/);
    const passed = {
      ...errorJob,
      status: "passed",
      counts: { run: 1, failed: 0, skipped: 0 },
    } as JobResource;
    assert.ok(jobTimeline(passed).some((entry) => entry.text === "tests started on a1"));
  });
});
