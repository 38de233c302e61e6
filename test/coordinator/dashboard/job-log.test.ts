import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildSteps } from "../../../coordinator/dashboard/build-steps.ts";
import { failureLines } from "../../../coordinator/dashboard/log-failures.ts";
import type { JobResource, LogLineResource } from "../../../protocol/resources.ts";

let lineNo = 0;
const line = (text: string, at?: string, stream = "system", attemptId = "7-1"): LogLineResource => ({
  lineNo: ++lineNo,
  attemptId,
  stream,
  text,
  ...(at === undefined ? {} : { at }),
});
const t = (seconds: number) => new Date(Date.UTC(2026, 0, 1) + seconds * 1000).toISOString();

const job = {
  args: ["-m", "test", "-M", "2G", "-v"],
  finishedAt: t(400),
  attempts: [{ id: "7-1", finishedAt: t(400) }],
} as unknown as JobResource;

describe("a job's log on its page", () => {
  it("turns the commands the agent logged into steps with durations", () => {
    const steps = buildSteps(job, [
      line("preparing CPython main from https://github.com/python/cpython", t(0)),
      line("$ git --git-dir /m init --bare --quiet /m.new", t(1)),
      line("$ git --git-dir /m fetch --depth 1 origin +main:refs/x", t(2)),
      line("$ git --git-dir /m -c core.hooksPath=/dev/null worktree add --detach -- /b abc", t(40)),
      line('$ /b/configure "--with-pydebug"', t(42)),
      line("$ make -j2", t(100)),
      line("$ /b/python -m test -M 2G -v", t(340)),
      line("working directory /w; memory limit 2147483648 bytes (cgroup-v2)", t(340)),
    ]);
    assert.deepEqual(
      steps.map((step) => [step.name, step.seconds]),
      [
        ["fetch", 39],
        ["checkout", 2],
        ["configure", 58],
        ["make", 240],
        ["test", 60],
      ],
    );
    assert.equal(steps[0]?.startedAt, t(1));
  });

  it("gives no steps for lines without times (agents before them) and leaves a running step open", () => {
    assert.deepEqual(buildSteps(job, [line("$ make -j2")]), []);
    const running = {
      ...job,
      finishedAt: null,
      attempts: [{ id: "7-1", finishedAt: null }],
    } as unknown as JobResource;
    assert.deepEqual(
      buildSteps(running, [line("$ make -j2", t(5))]).map((step) => [step.name, step.seconds]),
      [["make", null]],
    );
  });

  it("keeps only what failed in the failures-only view, each traceback whole", () => {
    const log = [
      "0:00:00 [1/2] test_crashy",
      "test_fine (test_crashy.T.test_fine) ... ok",
      "test_boom (test_crashy.T.test_boom) ... ERROR",
      "ERROR: test_boom (test_crashy.T.test_boom)",
      "----------------------------------------------------------------------",
      "Traceback (most recent call last):",
      '  File "/t/test_crashy.py", line 9, in test_boom',
      "    inner()",
      "ValueError: boom at depth",
      "",
      "Ran 2 tests in 0.003s",
      "test test_crashy failed",
      "0:00:01 [2/2] test_segv worker non-zero exit code (Exit code -11 (SIGSEGV))",
      "Fatal Python error: Segmentation fault",
      "",
      "Current thread 0x00007f7fb909ab80 (most recent call first):",
      '  File "/t/test_segv.py", line 4 in test_segv',
      "",
      "Extension modules: _testcapi (total: 1)",
      "== Tests result: FAILURE ==",
    ].map((text) => line(text, undefined, "stdout"));
    assert.deepEqual(
      failureLines(log).map((kept) => kept.text),
      [
        "test_boom (test_crashy.T.test_boom) ... ERROR",
        "ERROR: test_boom (test_crashy.T.test_boom)",
        "Traceback (most recent call last):",
        '  File "/t/test_crashy.py", line 9, in test_boom',
        "    inner()",
        "ValueError: boom at depth",
        "test test_crashy failed",
        "0:00:01 [2/2] test_segv worker non-zero exit code (Exit code -11 (SIGSEGV))",
        "Fatal Python error: Segmentation fault",
        "",
        "Current thread 0x00007f7fb909ab80 (most recent call first):",
        '  File "/t/test_segv.py", line 4 in test_segv',
        "",
        "Extension modules: _testcapi (total: 1)",
      ],
    );
  });
});
