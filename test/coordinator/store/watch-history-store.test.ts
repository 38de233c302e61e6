import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openStore, type Store } from "../../../coordinator/store/store.ts";
import type { TestRecord } from "../../../protocol/messages.ts";
import type { WatchRunResource } from "../../../protocol/resources.ts";
import { newJobRow } from "../../helpers/new-job.ts";
import { newWatchRow } from "../../helpers/new-watch.ts";

const SHA = (digit: string) => digit.repeat(40);
const MiB = 1024 * 1024;
const WATCH = "main-bigmem";

const fileRecord = (name: string, peakMiB: number, durationSeconds: number): TestRecord => ({
  name,
  kind: "file",
  outcome: "passed",
  startedAt: null,
  durationSeconds,
  peakRssBytes: peakMiB * MiB,
  detail: null,
});

describe("a watch's history in the store (a real SQLite file)", () => {
  let dir: string;
  let store: Store;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "memfarm-watch-history-"));
    store = openStore(join(dir, "memfarm.sqlite"));
    store.watches.insert(newWatchRow({ name: WATCH }));
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function finish(attemptId: string): void {
    const finished = store.jobStates.finish({
      attemptId,
      status: "passed",
      exitCode: 0,
      signal: null,
      startedAt: "2026-06-01T00:00:00.000Z",
      finishedAt: new Date(Date.now() + 100_250).toISOString(),
      peakRssBytes: 900 * MiB,
      counts: { run: 1, failed: 0, skipped: 0 },
      failedTests: [],
      error: null,
      limitBytes: null,
      limitKind: null,
      lastSeq: 1,
    });
    assert.equal(finished, "applied");
  }

  /** A job of `watch` on `sha` whose one attempt reports `tests` and the commit (with its time, if given), then passes. */
  function run(
    sha: string,
    tests: TestRecord[],
    commitTime: string | undefined,
    watch: string | null = WATCH,
  ): number {
    const job = store.jobs.insert(
      newJobRow({
        ref: "main",
        repo: "https://github.com/python/cpython",
        python: null,
        provenance:
          watch === null
            ? { source: "api", requester: "admin" }
            : { source: "watch", requester: "admin", watch },
      }),
    );
    if (watch !== null) store.watches.recordCommit(watch, sha, job.id, new Date("2026-06-01T00:00:00Z"));
    const attemptId = store.jobStates.assign(job.id, "a1") as string;
    const progress = { attemptId, seq: 1, started: true, log: [], samples: [], tests, commit: sha };
    const write = store.progress.record(commitTime === undefined ? progress : { ...progress, commitTime });
    assert.equal(write.verdict, "applied");
    finish(attemptId);
    return job.id;
  }

  it("keeps the commit's time an agent reports on the job, and null from an agent that sends none", () => {
    const timed = run(SHA("a"), [fileRecord("test_list", 40, 1.5)], "2026-05-30T10:00:00.000Z");
    const untimed = run(SHA("b"), [fileRecord("test_list", 41, 1.25)], undefined);
    assert.equal(store.jobs.get(timed)?.commitTime, "2026-05-30T10:00:00.000Z");
    assert.equal(store.jobs.get(untimed)?.commitTime, null);
    const commits = store.watches.get(WATCH)?.commits ?? [];
    assert.deepEqual(
      commits.slice(0, 2).map((commit) => [commit.sha, commit.commitTime]),
      [
        [SHA("b"), null],
        [SHA("a"), "2026-05-30T10:00:00.000Z"],
      ],
    );
  });

  it("answers every run of the watch, newest first, for whole jobs and for one test file", () => {
    const third = run(
      SHA("c"),
      [fileRecord("test_list", 44, 2.0004), fileRecord("test_bool", 16, 0.5)],
      "2026-05-31T10:00:00.000Z",
    );
    run(SHA("d"), [fileRecord("test_list", 99, 1)], "2026-05-31T11:00:00.000Z", null); // not the watch's
    const runs = store.watchHistory.runs(WATCH, null, 10);
    assert.deepEqual(
      runs.map((one) => [one.commit, one.commitTime]),
      [
        [SHA("c"), "2026-05-31T10:00:00.000Z"],
        [SHA("b"), null],
        [SHA("a"), "2026-05-30T10:00:00.000Z"],
      ],
    );
    const newest: WatchRunResource = {
      jobId: third,
      commit: SHA("c"),
      commitTime: "2026-05-31T10:00:00.000Z",
      seenAt: "2026-06-01T00:00:00.000Z",
      status: "passed",
      outcome: null,
      peakRssBytes: 900 * MiB,
      // The job's run time, from when it started running to the result's end.
      durationSeconds: Math.round((store.jobs.get(third)?.durationSeconds ?? Number.NaN) * 1000) / 1000,
    };
    assert.deepEqual(runs[0], newest);
    const ofTest = store.watchHistory.runs(WATCH, "test_list", 10);
    assert.deepEqual(
      ofTest.map((one) => [one.commit, one.outcome, one.peakRssBytes, one.durationSeconds]),
      [
        [SHA("c"), "passed", 44 * MiB, 2],
        [SHA("b"), "passed", 41 * MiB, 1.25],
        [SHA("a"), "passed", 40 * MiB, 1.5],
      ],
    );
    assert.deepEqual(
      store.watchHistory.runs(WATCH, "test_list", 2).map((one) => one.commit),
      [SHA("c"), SHA("b")],
      "the limit keeps the newest",
    );
    assert.equal(store.watchHistory.json(WATCH, "test_no_such", 10), "[]");
    assert.equal(store.watchHistory.json("no-such-watch", null, 10), "[]");
  });

  it("reads a test case through each job's tests, and only the job's final attempt", () => {
    const name = "test_json.test_decode.TestDecode.test_float";
    const job = run(SHA("e"), [{ ...fileRecord(name, 20, 0.1), kind: "case" }], "2026-06-01T09:00:00.000Z");
    assert.deepEqual(
      store.watchHistory.runs(WATCH, name, 10).map((one) => [one.jobId, one.peakRssBytes]),
      [[job, 20 * MiB]],
    );
    // An attempt lost and tried again: the history shows what the final attempt measured.
    const retried = store.jobs.insert(
      newJobRow({
        ref: "main",
        python: null,
        provenance: { source: "watch", requester: "admin", watch: WATCH },
      }),
    );
    const report = (attemptId: string, peakMiB: number) =>
      store.progress.record({
        attemptId,
        seq: 1,
        started: true,
        log: [],
        samples: [],
        tests: [fileRecord("test_bool", peakMiB, 1)],
      });
    const lost = store.jobStates.assign(retried.id, "a1") as string;
    report(lost, 500);
    assert.equal(store.jobStates.loseAttempt(lost, 3, "agent a1 was lost"), "queued");
    const final = store.jobStates.assign(retried.id, "a2") as string;
    report(final, 17);
    finish(final);
    assert.deepEqual(
      store.watchHistory.runs(WATCH, "test_bool", 1).map((one) => [one.jobId, one.peakRssBytes]),
      [[retried.id, 17 * MiB]],
    );
  });

  it("forgets a queued job's commit time when a newer head takes the job over", () => {
    const job = store.jobs.insert(
      newJobRow({
        ref: "main",
        python: null,
        provenance: { source: "watch", requester: "admin", watch: WATCH },
      }),
    );
    store.jobStates.setCommit(job.id, SHA("f"), "2026-06-02T00:00:00.000Z");
    assert.equal(store.jobStates.repinQueued(job.id, SHA("9")), true);
    assert.deepEqual([store.jobs.get(job.id)?.commit, store.jobs.get(job.id)?.commitTime], [SHA("9"), null]);
  });
});
