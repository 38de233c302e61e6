import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CLEAR_LINE,
  emptyFollowState,
  StatusLine,
  statusText,
  testFromLogLine,
  withJob,
  withSamples,
} from "../../cli/status-line.ts";
import type { JobResource } from "../../protocol/resources.ts";

const GiB = 1024 ** 3;

function job(fields: Partial<JobResource>): JobResource {
  return {
    id: 7,
    status: "running",
    createdAt: "2026-01-01T10:00:00.000Z",
    startedAt: "2026-01-01T10:00:05.000Z",
    finishedAt: null,
    peakRssBytes: null,
    heldReason: null,
    ...fields,
  } as JobResource;
}

describe("the live status line of --follow", () => {
  it("shows phase, elapsed time, current and peak memory and the current test", () => {
    let state = withJob(emptyFollowState(), job({}));
    state = withSamples(state, [
      { at: "", rssBytes: 3 * GiB, cpuPercent: 100, processes: 2 },
      { at: "", rssBytes: 2 * GiB, cpuPercent: 100, processes: 2 },
    ]);
    const test = testFromLogLine("0:01:02 load avg: 1.50 [ 3/10] test_bigmem");
    state = { ...state, currentTest: test };
    assert.equal(
      statusText(state, Date.parse("2026-01-01T10:01:15.000Z")),
      "job 7 running | 1m10s | mem 2.0 GiB | peak 3.0 GiB | [3/10] test_bigmem",
    );
  });

  it("says why a queued job waits, and keeps the kernel's peak once the job reports it", () => {
    const queued = withJob(
      emptyFollowState(),
      job({ status: "queued", startedAt: null, heldReason: "no agent has 60 GiB free" }),
    );
    assert.match(
      statusText(queued, Date.parse("2026-01-01T10:00:03.000Z")),
      /^job 7 queued \| 3\.0s \| waiting: no agent has 60 GiB free \| mem - \| peak -$/,
    );
    const done = withJob(
      queued,
      job({ status: "passed", peakRssBytes: 5 * GiB, finishedAt: "2026-01-01T10:00:15.000Z" }),
    );
    assert.match(statusText(done, Date.now()), /^job 7 passed \| 10\.0s \| mem - \| peak 5\.0 GiB$/);
  });

  it("reads regrtest's progress lines and nothing else", () => {
    assert.equal(testFromLogLine("0:00:00 load avg: 0.00 [1/1/1] test_lzma"), "[1/1] test_lzma");
    assert.equal(testFromLogLine("test_center (test.test_bigmem.StrTest.test_center) ... ok"), null);
  });

  it("redraws in place under whole log lines, and fits the terminal's width", () => {
    const terminal: string[] = [];
    const log: string[] = [];
    const line = new StatusLine(
      (text) => terminal.push(text),
      () => 20,
    );
    line.printAbove((text) => log.push(text), "before any status\n");
    assert.equal(terminal.length, 0, "nothing to clear before the first draw");
    line.draw("job 7 running | 1m10s | mem 2.0 GiB");
    assert.deepEqual(terminal, [`${CLEAR_LINE}job 7 running | 1m1`]);
    line.printAbove((text) => {
      terminal.push(`<log>${text}`);
    }, "a log line\n");
    assert.deepEqual(terminal.slice(1), [CLEAR_LINE, "<log>a log line\n", "job 7 running | 1m1"]);
    line.clear();
    assert.equal(terminal.at(-1), CLEAR_LINE);
  });
});
