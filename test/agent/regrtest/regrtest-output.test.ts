import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classifyEnding } from "../../../agent/regrtest/outcome.ts";
import { countsOf, failedTestsOf, RegrtestOutputReader } from "../../../agent/regrtest/regrtest-output.ts";
import { describeCounts } from "../../../protocol/messages.ts";

function read(text: string) {
  const reader = new RegrtestOutputReader();
  for (const line of text.split("\n")) reader.read(line);
  return reader.get();
}

// Output captured from CPython 3.11.7 (pyenv) and 3.11.2 (Debian).
const FAILURE_3_11_7 = `Using random seed: 2672089367
0:00:00 load avg: 0.75 Run 2 tests sequentially
0:00:00 load avg: 0.75 [1/2] test_failing
0:00:00 load avg: 0.75 [2/2/1] test_fine -- test_failing failed (1 failure)

== Tests result: FAILURE ==

1 test failed:
    test_failing

1 test OK.

Total duration: 113 ms
Total tests: run=4 failures=1 skipped=1
Total test files: run=2/2 failed=1
Result: FAILURE`;

const FAILURE_3_11_2 = `0:00:00 load avg: 0.69 [2/2/1] test_fine -- test_failing failed (1 failure)

== Tests result: FAILURE ==

1 test OK.

2 tests failed:
    test_failing test_other

Total duration: 63 ms
Tests result: FAILURE`;

const ending = {
  exitCode: 0,
  signal: null,
  canceledByUser: false,
  timedOutByAgent: null,
  stoppedByAgentShutdown: false,
  oomKilled: false,
  limitBytes: 2 * 1024 ** 3,
  peakRssBytes: null,
} as const;

describe("regrtest output", () => {
  it("reads counts and failing files from 3.11.7's summary", () => {
    const summary = read(FAILURE_3_11_7);
    assert.equal(summary.result, "FAILURE");
    assert.deepEqual(countsOf(summary), { run: 4, failed: 1, skipped: 1 });
    assert.deepEqual(failedTestsOf(summary), ["test_failing"]);
    assert.equal(summary.currentTest, "test_fine");
  });

  it("keeps the leak lines of a refleak run, whose file failed while no case did", () => {
    // The shape of CPython 3.11's -R output for a leaking file (issue 15's test_bisect).
    const summary = read(`0:00:00 load avg: 0.50 [1/1] test_bisect
beginning 6 repetitions
123456
......
test_bisect leaked [945, 945, 945] references, sum=2835
test_bisect failed (reference leak)

== Tests result: FAILURE ==

1 test failed:
    test_bisect

Total duration: 2.1 sec
Total tests: run=46
Total test files: run=1/1 failed=1
Result: FAILURE`);
    const counts = countsOf(summary);
    assert.deepEqual(counts, {
      run: 46,
      failed: 0,
      skipped: 0,
      leaks: ["test_bisect leaked [945, 945, 945] references, sum=2835"],
    });
    assert.equal(
      describeCounts(counts),
      "46 run, 0 failed, 0 skipped; leaked: test_bisect leaked [945, 945, 945] references, sum=2835",
    );
    assert.deepEqual(failedTestsOf(summary), ["test_bisect"]);
    assert.equal(describeCounts(countsOf(read(FAILURE_3_11_7))), "4 run, 1 failed, 1 skipped");
  });

  it("falls back to file counts where the version prints no test totals", () => {
    const summary = read(FAILURE_3_11_2);
    assert.equal(summary.result, "FAILURE");
    assert.deepEqual(countsOf(summary), { run: 3, failed: 2, skipped: 0 });
    assert.deepEqual(failedTestsOf(summary), ["test_failing", "test_other"]);
  });

  it('counts the files of a run where all passed: 3.11.2 says "All 2 tests OK." (a refleak run under -j)', () => {
    const summary = read(`0:00:41 load avg: 1.62 [2/2] test_bool passed
beginning 6 repetitions
123456
......
== Tests result: SUCCESS ==

All 2 tests OK.

Total duration: 41.4 sec
Tests result: SUCCESS`);
    assert.equal(summary.result, "SUCCESS");
    assert.deepEqual(countsOf(summary), { run: 2, failed: 0, skipped: 0 });
  });

  it("names failing test cases when the log has them, instead of their file", () => {
    const summary = read(
      `FAIL: test_bad (test_failing.T.test_bad)\ntest_worse (test_failing.T.test_worse) ... ERROR\n${FAILURE_3_11_7}`,
    );
    assert.deepEqual(failedTestsOf(summary), ["test_failing.T.test_bad", "test_failing.T.test_worse"]);
  });

  it("counts test cases from verbose lines, also when the outcome comes lines later", () => {
    const summary = read(
      [
        "test_capitalize (test.test_bigmem.StrTest.test_capitalize) ... skipped 'not enough memory: 4.0G minimum needed'",
        "test_strip (test.test_bigmem.BytesTest.test_strip) ...  ... process data size: 2.0G",
        " ... expected peak memory use: 2.0G",
        "ok",
        "test_sleep (test_slow.T.test_sleep) ... child pid 5500",
        "FAIL",
        "1 test failed:",
        "    test_slow",
        "Tests result: FAILURE",
      ].join("\n"),
    );
    assert.deepEqual(countsOf(summary), { run: 3, failed: 1, skipped: 1 });
    assert.deepEqual(failedTestsOf(summary), ["test_slow.T.test_sleep"]);
  });

  it("calls hitting the memory limit oom, never a test failure, and says so in words", () => {
    const summary = read(FAILURE_3_11_7);
    const oom = classifyEnding(
      { ...ending, exitCode: null, signal: "SIGKILL", oomKilled: true, peakRssBytes: 2 * 1024 ** 3 },
      summary,
    );
    assert.equal(oom.status, "oom");
    assert.match(oom.reason ?? "", /more than its memory limit of 2\.0 GiB \(peak 2\.0 GiB\)/);
    assert.equal(classifyEnding({ ...ending, exitCode: 2, oomKilled: true }, summary).status, "oom");
    const hung = classifyEnding(
      { ...ending, exitCode: null, signal: "SIGTERM", timedOutByAgent: "no-output" },
      summary,
    );
    assert.deepEqual([hung.status, /printed nothing/.test(hung.reason ?? "")], ["timed_out", true]);
  });

  it("maps exit codes to outcomes, with the exit code as the truth", () => {
    const summary = read(FAILURE_3_11_7);
    assert.equal(classifyEnding({ ...ending, exitCode: 0 }, summary).status, "passed");
    assert.equal(classifyEnding({ ...ending, exitCode: 2 }, summary).status, "failed");
    assert.equal(classifyEnding({ ...ending, exitCode: 4 }, summary).status, "failed");
    assert.equal(classifyEnding({ ...ending, exitCode: 130 }, summary).status, "canceled");
    assert.equal(classifyEnding({ ...ending, exitCode: 1 }, read("Timeout (0:10:00)!")).status, "timed_out");
    assert.equal(classifyEnding({ ...ending, exitCode: 1 }, read("No module named test")).status, "error");
    assert.equal(classifyEnding({ ...ending, exitCode: null, signal: "SIGKILL" }, summary).status, "error");
    assert.equal(
      classifyEnding({ ...ending, exitCode: null, signal: "SIGKILL", canceledByUser: true }, summary).status,
      "canceled",
    );
    assert.equal(
      classifyEnding({ ...ending, exitCode: null, signal: "SIGKILL", timedOutByAgent: "wall-clock" }, summary)
        .status,
      "timed_out",
    );
  });
});
