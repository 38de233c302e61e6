import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";

const ROOT = join(import.meta.dirname, "..", "..", "..");

describe("scripts/setup.sh", () => {
  it("does not rebuild nor remove dist when nothing changed", () => {
    const first = spawnSync("bash", ["scripts/setup.sh"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(first.status, 0, first.stderr);
    const mainBefore = statSync(join(ROOT, "dist", "cli", "main.js"));
    const second = spawnSync("bash", ["scripts/setup.sh"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stderr, /build is up to date/);
    assert.doesNotMatch(second.stderr, /building/);
    const mainAfter = statSync(join(ROOT, "dist", "cli", "main.js"));
    assert.equal(mainAfter.ino, mainBefore.ino);
    assert.equal(mainAfter.mtimeMs, mainBefore.mtimeMs);
  });

  it("refuses an unknown option in words", () => {
    const run = spawnSync("bash", ["scripts/setup.sh", "--for-test"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /unknown option --for-test/);
  });
});

describe("bin/memfarm without a build", () => {
  it("says to run npm run setup instead of printing a module stack", () => {
    const dir = mkdtempSync(join(tmpdir(), "memfarm-nodist-"));
    try {
      mkdirSync(join(dir, "bin"));
      copyFileSync(join(ROOT, "bin", "memfarm"), join(dir, "bin", "memfarm"));
      const run = spawnSync(process.execPath, [join(dir, "bin", "memfarm"), "jobs"], { encoding: "utf8" });
      assert.equal(run.status, 6);
      assert.match(run.stderr, /not built.*run npm run setup/);
      assert.doesNotMatch(run.stderr, /ERR_MODULE_NOT_FOUND|at /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
