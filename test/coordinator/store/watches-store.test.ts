import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openStore } from "../../../coordinator/store/store.ts";

const SHA = (digit: string) => digit.repeat(40);

describe("watches in the store (a real SQLite file)", () => {
  it("survive a restart with their heads, and record a replaced head as untested", () => {
    const dir = mkdtempSync(join(tmpdir(), "memfarm-watches-"));
    const file = join(dir, "memfarm.sqlite");
    try {
      const first = openStore(file);
      const watch = {
        name: "main-bigmem",
        repo: "https://github.com/python/cpython",
        branch: "main",
        suite: "bigmem",
        memlimitBytes: 60 * 1024 ** 3,
        tests: ["test_bigmem"],
        labels: { arch: "aarch64" },
        everySeconds: 900,
        commentOnCulprit: false,
        requester: "admin",
      };
      assert.equal(first.watches.insert(watch), true);
      assert.equal(first.watches.insert(watch), false, "one watch per name");
      first.watches.recordHead("main-bigmem", SHA("a"));
      first.watches.recordCommit("main-bigmem", SHA("a"), 7);
      first.watches.markUntested("main-bigmem", 7);
      first.watches.recordCommit("main-bigmem", SHA("b"), 7);
      first.watches.setPaused("main-bigmem", true);
      first.close();

      const again = openStore(file);
      const kept = again.watches.get("main-bigmem");
      assert.ok(kept);
      assert.deepEqual(
        [kept.paused, kept.head, kept.queuedJobId, kept.memlimitBytes, kept.labels, kept.tests],
        [true, SHA("a"), 7, 60 * 1024 ** 3, { arch: "aarch64" }, ["test_bigmem"]],
      );
      assert.deepEqual(
        kept.commits.map((commit) => [commit.sha, commit.jobId]),
        [
          [SHA("b"), 7],
          [SHA("a"), null],
        ],
      );
      assert.equal(again.watches.remove("main-bigmem"), true);
      assert.equal(again.watches.get("main-bigmem"), null);
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
