import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openStore, type Store } from "../../../coordinator/store/store.ts";

const JOBS = 100_000;

describe("the dashboard's store with 100,000 jobs of history", () => {
  let dir: string;
  let store: Store;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "memfarm-dashboard-store-"));
    store = openStore(join(dir, "coordinator.db"));
    store.db.exec(`
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${JOBS})
      INSERT INTO jobs (suite, status, priority, reservation_bytes, ref, args, timeout_seconds, agent, created_at)
      SELECT CASE i % 3 WHEN 0 THEN 'bigmem' WHEN 1 THEN 'refleak' ELSE 'bigmem-smoke' END,
             CASE i % 5 WHEN 0 THEN 'failed' ELSE 'passed' END, 'normal', 1, 'pull/' || (i % 500) || '/head',
             '[]', 60, 'agent-' || (i % 40), '2026-01-01T00:00:00.000Z'
      FROM n`);
  });
  after(() => {
    store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("pages through each filter with an index, never a scan or a sort of the whole table", () => {
    const filters = [
      {},
      { status: "failed" },
      { suite: "refleak" },
      { agent: "agent-7" },
      { ref: "pull/42/head" },
      { status: "failed", before: 50_000 },
    ];
    for (const filter of filters) {
      const where = Object.keys(filter)
        .map((key) => (key === "before" ? "id < ?" : `${key} = ?`))
        .join(" AND ");
      const plan = store.db
        .prepare(
          `EXPLAIN QUERY PLAN SELECT * FROM jobs ${where ? `WHERE ${where}` : ""} ORDER BY id DESC LIMIT 51`,
        )
        .all(...Object.values(filter))
        .map((row) => (row as { detail: string }).detail)
        .join("; ");
      assert.doesNotMatch(plan, /TEMP B-TREE/, `${JSON.stringify(filter)}: ${plan}`);
      assert.ok(
        !/^SCAN jobs$/m.test(plan) || Object.keys(filter).length === 0,
        `${JSON.stringify(filter)}: ${plan}`,
      );
      const page = store.jobs.list({ ...filter, limit: 50 });
      assert.equal(page.jobs.length, 50);
      assert.ok(page.nextCursor);
    }
    const byRef = store.jobs.list({ ref: "pull/42/head", limit: 500 });
    assert.equal(byRef.jobs.length, JOBS / 500);
    assert.ok(byRef.jobs.every((job) => job.ref === "pull/42/head"));
  });

  it("counts the jobs per status for the list's filter links from an index, not the table's rows", () => {
    assert.deepEqual(store.jobs.countByStatus({}), { failed: JOBS / 5, passed: JOBS - JOBS / 5 });
    const plan = store.db
      .prepare("EXPLAIN QUERY PLAN SELECT status, COUNT(*) AS count FROM jobs GROUP BY status")
      .all()
      .map((row) => (row as { detail: string }).detail)
      .join("; ");
    assert.match(plan, /COVERING INDEX/, plan);
    // i % 3 = 1 is refleak and i % 5 = 0 failed: every 15th job from i = 10.
    const refleak = store.jobs.countByStatus({ suite: "refleak" });
    assert.equal(refleak.failed, Math.floor((JOBS - 10) / 15) + 1);
    assert.equal((refleak.failed ?? 0) + (refleak.passed ?? 0), Math.floor((JOBS - 1) / 3) + 1);
    // i % 500 = 42 never has i % 5 = 0: all 200 passed.
    assert.deepEqual(store.jobs.countByStatus({ ref: "pull/42/head" }), { passed: JOBS / 500 });
  });

  it("keeps sessions only as hashes and ends them when they expire", () => {
    const token = store.tokens.create("bob");
    const now = new Date("2026-01-01T00:00:00Z");
    const id = store.sessions.open(token, now);
    assert.equal(store.sessions.ownerOf(id, now), "bob");
    const stored = JSON.stringify(store.db.prepare("SELECT * FROM dashboard_sessions").all());
    assert.ok(
      !stored.includes(id) && !stored.includes(token),
      "neither the session id nor the token is stored",
    );
    assert.equal(store.sessions.ownerOf(id, new Date("2026-01-02T00:00:00Z")), null);
    assert.equal(store.sessions.ownerOf("unknown-session-id-000000", now), null);
  });
});
