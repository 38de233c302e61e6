import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MIGRATIONS_DIR } from "../../../coordinator/paths.ts";
import { openStore, type Store } from "../../../coordinator/store/store.ts";
import type { AttemptResult } from "../../../protocol/messages.ts";
import { newJobRow } from "../../helpers/new-job.ts";

describe("job store (a real SQLite file)", () => {
  let dir: string;
  let store: Store;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "memfarm-store-"));
    store = openStore(join(dir, "memfarm.sqlite"));
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const newJob = () => store.jobs.insert(newJobRow());
  const result = (attemptId: string, status: AttemptResult["status"] = "passed"): AttemptResult => ({
    attemptId,
    status,
    exitCode: 0,
    signal: null,
    startedAt: new Date().toISOString(),
    finishedAt: new Date().toISOString(),
    peakRssBytes: 1000,
    counts: { run: 1, failed: 0, skipped: 0 },
    failedTests: [],
    error: null,
    limitBytes: null,
    limitKind: null,
    lastSeq: 0, // no progress was sent before it
  });

  it("uses WAL and the numbered migrations", () => {
    assert.equal(store.db.pragma("journal_mode", { simple: true }), "wal");
    const migrations = readdirSync(MIGRATIONS_DIR).filter((name) => name.endsWith(".sql"));
    // The ledger is the number of the newest migration (numbers may have a gap while a branch waits to merge).
    const newest = Math.max(...migrations.map((name) => Number(name.slice(0, 4))));
    assert.equal(store.db.pragma("user_version", { simple: true }), newest);
  });

  it("keeps how each test's peak was measured, and null for agents that did not say", () => {
    const job = newJob();
    const attemptId = store.jobStates.assign(job.id, "a1");
    assert.ok(attemptId);
    const test = {
      kind: "file" as const,
      outcome: "passed" as const,
      startedAt: 1,
      durationSeconds: 1,
      detail: null,
    };
    store.tests.record(job.id, attemptId, [
      { ...test, name: "test_new", peakRssBytes: 5, peakMeasuredBy: "worker-cgroup" },
      { ...test, name: "test_old", peakRssBytes: 7 },
    ]);
    const listed = Object.fromEntries(store.tests.list(job.id).map((row) => [row.name, row.peakMeasuredBy]));
    assert.deepEqual(listed, { test_new: "worker-cgroup", test_old: null });
  });

  it("refuses a status outside the job states (CHECK constraint)", () => {
    const job = newJob();
    assert.throws(
      () => store.db.prepare("UPDATE jobs SET status = 'bogus' WHERE id = ?").run(job.id),
      /CHECK/,
    );
  });

  it("applies a result once: a redelivery is a duplicate and changes nothing", () => {
    const job = newJob();
    const attemptId = store.jobStates.assign(job.id, "a1");
    assert.ok(attemptId);
    assert.equal(store.jobStates.markRunning(job.id, attemptId), true);
    assert.equal(store.jobStates.finish(result(attemptId)), "applied");
    assert.equal(store.jobStates.finish(result(attemptId)), "duplicate");
    assert.equal(store.jobs.get(job.id)?.status, "passed");
  });

  it("rejects a result from an attempt that is no longer current", () => {
    const job = newJob();
    const first = store.jobStates.assign(job.id, "a1");
    assert.ok(first);
    assert.equal(store.jobStates.loseAttempt(first, 3, "agent a1 was lost"), "queued");
    const second = store.jobStates.assign(job.id, "a2");
    assert.ok(second);
    assert.equal(store.jobStates.finish(result(first, "failed")), "stale");
    assert.equal(store.jobs.get(job.id)?.status, "assigned");
    assert.equal(store.jobStates.finish(result(second)), "applied");
    const final = store.jobs.get(job.id);
    assert.deepEqual(
      final?.attempts.map((attempt) => [attempt.id, attempt.status]),
      [
        [first, "lost"],
        [second, "passed"],
      ],
    );
  });

  it("gives up after the bounded number of attempts", () => {
    const job = newJob();
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      const id = store.jobStates.assign(job.id, "a1");
      assert.ok(id);
      assert.equal(store.jobStates.loseAttempt(id, 2, "agent lost"), attempt < 2 ? "queued" : "error");
    }
    assert.match(store.jobs.get(job.id)?.error ?? "", /gave up after 2 attempts/);
  });

  it("lets only one of two racing assignments win", () => {
    const job = newJob();
    assert.ok(store.jobStates.assign(job.id, "a1"));
    assert.equal(store.jobStates.assign(job.id, "a2"), null);
  });

  it("numbers log lines across batches and accepts each progress message once", () => {
    const job = newJob();
    const attemptId = store.jobStates.assign(job.id, "a1") as string;
    assert.equal(store.jobStates.acceptProgressSeq(attemptId, 1), "next");
    assert.equal(store.jobStates.acceptProgressSeq(attemptId, 1), "duplicate");
    // In order only: 3 waits for 2 (held back by a failed write, redelivered after 3), then goes.
    assert.equal(store.jobStates.acceptProgressSeq(attemptId, 3), "early");
    assert.equal(store.jobStates.acceptProgressSeq(attemptId, 2), "next");
    assert.equal(store.jobStates.acceptProgressSeq(attemptId, 3), "next");
    assert.equal(store.jobStates.acceptProgressSeq(attemptId, 2), "duplicate");
    // A gap that never fills is skipped when the caller says so.
    assert.equal(store.jobStates.acceptProgressSeq(attemptId, 9, true), "next");
    store.logs.append(job.id, attemptId, [
      { stream: "stdout", text: "a" },
      { stream: "stdout", text: "b" },
    ]);
    store.logs.append(job.id, attemptId, [{ stream: "stderr", text: "c" }]);
    assert.deepEqual(
      store.logs.read(job.id).map((line) => [line.lineNo, line.text]),
      [
        [1, "a"],
        [2, "b"],
        [3, "c"],
      ],
    );
    assert.deepEqual(
      store.logs.read(job.id, 2).map((line) => line.text),
      ["c"],
    );
  });
});
