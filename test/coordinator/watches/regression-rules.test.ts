import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { judgeRun } from "../../../coordinator/watches/regressions.ts";
import type { WatchRunResource } from "../../../protocol/resources.ts";

const MiB = 1024 * 1024;
const run = (
  jobId: number,
  commit: string,
  peakMiB: number | null,
  outcome = "passed",
): WatchRunResource => ({
  jobId,
  commit: commit.repeat(40).slice(0, 40),
  commitTime: null,
  seenAt: null,
  status: "passed",
  outcome,
  peakRssBytes: peakMiB === null ? null : peakMiB * MiB,
  durationSeconds: 1,
});

describe("what counts as a regression of a watched test", () => {
  it("a peak above the usual by more than the noise floor of 5 % and 32 MiB", () => {
    const history = [run(3, "b", 1000), run(2, "a", 1000), run(1, "9", 1010)];
    const grown = judgeRun([run(4, "c", 1310), ...history], "passed");
    assert.equal(grown?.kind, "memory");
    assert.equal(grown?.base.jobId, 3, "the last good run is the run before");
    assert.equal(grown?.baseBytes, 1000 * MiB);
    assert.equal(judgeRun([run(4, "c", 1040), ...history], "passed"), null, "4 % is within the 5 % floor");
    assert.equal(
      judgeRun([run(4, "c", 100 + 30), run(3, "b", 100)], "passed"),
      null,
      "30 MiB is within 32 MiB",
    );
  });

  it("a test whose own history is noisy must grow past that noise", () => {
    const noisy = [run(3, "b", 1000), run(2, "a", 1300), run(1, "9", 1100)];
    assert.equal(judgeRun([run(4, "c", 1350), ...noisy], "passed"), null, "within the 300 MiB spread");
    assert.equal(judgeRun([run(4, "c", 1500), ...noisy], "passed")?.kind, "memory");
  });

  it("a test that passed and now fails, leaks or ends oom", () => {
    assert.equal(judgeRun([run(2, "b", 100, "failed"), run(1, "a", 100)], "failed")?.kind, "outcome");
    assert.equal(judgeRun([run(2, "b", 100, "leaked"), run(1, "a", 100)], "failed")?.kind, "outcome");
    assert.equal(judgeRun([run(2, "b", null, "error"), run(1, "a", 100)], "oom")?.kind, "outcome");
    assert.equal(
      judgeRun([run(2, "b", 100), run(1, "a", 100)], "oom"),
      null,
      "a test that passed before the job ran out of memory is not to blame",
    );
    assert.equal(
      judgeRun([run(2, "b", 100, "failed"), run(1, "a", 100, "failed")], "failed"),
      null,
      "it failed before too",
    );
  });

  it("never a re-run of the same commit, nor a first run", () => {
    assert.equal(judgeRun([run(2, "a", 5000), run(1, "a", 100)], "passed"), null);
    assert.equal(judgeRun([run(1, "a", 5000)], "passed"), null);
  });
});
