import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openStore, type Store } from "../../../coordinator/store/store.ts";
import type { TestRecord } from "../../../protocol/messages.ts";
import { newJobRow } from "../../helpers/new-job.ts";

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

describe("commit times in the store (a real SQLite file)", () => {
  let dir: string;
  let store: Store;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "memfarm-watch-history-"));
    store = openStore(join(dir, "memfarm.sqlite"));
    store.watches.insert({
      name: WATCH,
      repo: "https://github.com/python/cpython",
      branch: "main",
      suite: "bigmem",
      memlimitBytes: null,
      tests: [],
      labels: {},
      everySeconds: 900,
      requester: "admin",
    });
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

  it("shows each run's commit time in the watch's history", () => {
    assert.deepEqual(
      store.watches.history(WATCH, null, 10).map((one) => [one.commit, one.commitTime]),
      [
        [SHA("b"), null],
        [SHA("a"), "2026-05-30T10:00:00.000Z"],
      ],
    );
    assert.deepEqual(
      store.watches.history(WATCH, "test_list", 10).map((one) => one.commitTime),
      [null, "2026-05-30T10:00:00.000Z"],
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
