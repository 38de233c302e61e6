import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openStore, type Store } from "../../../coordinator/store/store.ts";
import { WatchHistoryCache } from "../../../coordinator/watches/history-cache.ts";
import type { TestRecord } from "../../../protocol/messages.ts";
import { newJobRow } from "../../helpers/new-job.ts";
import { newWatchRow } from "../../helpers/new-watch.ts";

const MiB = 1024 * 1024;
const WATCH = "main-bigmem";
const OTHER = "3.13-bigmem";
const sha = (n: number) => n.toString(16).padStart(40, "0");

const file = (name: string, peakMiB: number): TestRecord => ({
  name,
  kind: "file",
  outcome: "passed",
  startedAt: null,
  durationSeconds: 1.5,
  peakRssBytes: peakMiB * MiB,
  detail: null,
});

/**
 * The history cache on a real SQLite file, written through the store as the coordinator writes it.
 * After every kind of write, what the cache answers must be byte for byte what the query answers
 * now (so it is never stale), and it must say whether it answered from memory, read only the runs
 * from the oldest open job on, or read the whole answer again.
 */
describe("a watch's history cache (a real SQLite file)", () => {
  let dir: string;
  let store: Store;
  let commitCount = 0;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "memfarm-history-cache-"));
    store = openStore(join(dir, "memfarm.sqlite"));
    store.watches.insert(newWatchRow({ name: WATCH }));
    store.watches.insert(newWatchRow({ name: OTHER, branch: "3.13" }));
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A job of `watch` queued for a new head; returns its id and its commit. */
  function queue(watch = WATCH): { jobId: number; commit: string } {
    const job = store.jobs.insert(
      newJobRow({ ref: "main", python: null, provenance: { source: "watch", requester: "admin", watch } }),
    );
    commitCount += 1;
    store.watches.recordCommit(watch, sha(commitCount), job.id);
    return { jobId: job.id, commit: sha(commitCount) };
  }

  function start(jobId: number, commit: string, tests: TestRecord[]): string {
    const attemptId = store.jobStates.assign(jobId, "a1") as string;
    const write = store.progress.record({
      attemptId,
      seq: 1,
      started: true,
      log: [],
      samples: [],
      tests,
      commit,
    });
    assert.equal(write.verdict, "applied");
    return attemptId;
  }

  function finish(attemptId: string): void {
    const verdict = store.jobStates.finish({
      attemptId,
      status: "passed",
      exitCode: 0,
      signal: null,
      startedAt: "2026-06-01T00:00:00.000Z",
      finishedAt: new Date(Date.now() + 60_000).toISOString(),
      peakRssBytes: 900 * MiB,
      counts: { run: 1, failed: 0, skipped: 0 },
      failedTests: [],
      error: null,
      limitBytes: null,
      limitKind: null,
      lastSeq: 1,
    });
    assert.equal(verdict, "applied");
  }

  function run(peakMiB: number, watch = WATCH): number {
    const { jobId, commit } = queue(watch);
    finish(start(jobId, commit, [file("test_list", peakMiB), file("test_bool", 16)]));
    return jobId;
  }

  /** Asks the cache and the query; they must agree. Returns how the cache answered. */
  function ask(cache: WatchHistoryCache, test: string | null, limit: number, watch = WATCH): string {
    const before = cache.stats();
    const answer = cache.get(watch, test, limit).runsJson.toString();
    assert.equal(
      answer,
      store.watchHistory.json(watch, test, limit),
      `the cache is stale for ${test}, ${limit}`,
    );
    const after = cache.stats();
    if (after.hits > before.hits) return "memory";
    if (after.refreshes > before.refreshes) return "refresh";
    return "read";
  }

  it("answers from memory until the watch's history changes, then reads only the runs that can have changed", () => {
    const cache = new WatchHistoryCache(store.watchHistory);
    for (let n = 0; n < 5; n += 1) run(100 + n);
    assert.equal(ask(cache, "test_list", 3), "read");
    assert.equal(ask(cache, null, 10), "read");
    assert.equal(ask(cache, "test_list", 3), "memory");
    assert.equal(ask(cache, null, 10), "memory");

    // A new head queued, started, reporting a test, finished: each step is seen, none reads it all.
    const { jobId, commit } = queue();
    assert.equal(ask(cache, null, 10), "refresh");
    assert.equal(ask(cache, "test_list", 3), "refresh");
    const attemptId = start(jobId, commit, [file("test_list", 300)]);
    assert.equal(ask(cache, "test_list", 3), "refresh");
    assert.equal(JSON.parse(cache.get(WATCH, "test_list", 3).runsJson.toString())[0].peakRssBytes, 300 * MiB);
    assert.equal(ask(cache, null, 10), "refresh");
    finish(attemptId);
    assert.equal(ask(cache, "test_list", 3), "refresh");
    assert.equal(ask(cache, null, 10), "refresh");
    assert.equal(ask(cache, null, 10), "memory");
    assert.equal(ask(cache, "test_no_such", 10), "read");
  });

  it("keeps a watch's answers when another watch gets a run", () => {
    const cache = new WatchHistoryCache(store.watchHistory);
    assert.equal(ask(cache, "test_list", 10), "read");
    run(120, OTHER);
    assert.equal(ask(cache, "test_list", 10), "memory");
    assert.equal(ask(cache, "test_list", 10, OTHER), "read");
  });

  it("reads the whole answer again when a run of an ended job changes, or the answer lost runs it needs", () => {
    const cache = new WatchHistoryCache(store.watchHistory);
    assert.equal(ask(cache, null, 4), "read");
    // The watch sees a head again whose job ended: its run shows the new time it was seen.
    const seen = store.watches.get(WATCH)?.commits[0];
    assert.ok(seen?.jobId);
    store.watches.recordCommit(WATCH, seen.sha, seen.jobId, new Date("2027-01-01T00:00:00Z"));
    assert.equal(ask(cache, null, 4), "read");

    // A running job's attempt is lost: its test's run leaves the answer, which was at its limit.
    const { jobId, commit } = queue();
    const lost = start(jobId, commit, [file("test_list", 999)]);
    assert.equal(ask(cache, "test_list", 4), "read");
    assert.equal(store.jobStates.loseAttempt(lost, 3, "agent a1 was lost"), "queued");
    assert.equal(ask(cache, "test_list", 4), "read");
    finish(start(jobId, commit, [file("test_list", 101)]));
    assert.equal(ask(cache, "test_list", 4), "refresh");

    store.watches.remove(WATCH);
    assert.equal(ask(cache, null, 4), "read", "a removed watch's heads are gone, so its runs' times are");
  });

  it("keeps no more than its bytes, the least recently used dropped first", () => {
    const whole = Buffer.byteLength(store.watchHistory.json(OTHER, null, 10));
    const cache = new WatchHistoryCache(store.watchHistory, whole + 10);
    assert.equal(ask(cache, null, 10, OTHER), "read");
    assert.equal(ask(cache, "test_bool", 10, OTHER), "read");
    assert.deepEqual([cache.stats().entries, cache.stats().bytes <= whole + 10], [1, true]);
    assert.equal(ask(cache, null, 10, OTHER), "read", "evicted");
  });
});
