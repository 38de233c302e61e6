import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { runCli } from "../helpers/cli.ts";
import { finished, startFarm, type TestFarm } from "../helpers/farm.ts";
import { findTestPython } from "../helpers/python.ts";

const jobsIn = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT COUNT(*) AS n FROM jobs").get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe("memfarm backup and restore", () => {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-backup-"));
  let farm: TestFarm;
  let dataDir = "";
  before(async () => {
    farm = await startFarm();
    dataDir = join(farm.dir, "data");
    const job = await farm.submit({ suite: "bigmem-smoke", python: findTestPython(), tests: ["test_bool"] });
    assert.equal((await farm.waitFor(job.id, finished)).status, "passed");
  });
  after(async () => {
    await farm?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("backs up a running farm's database, checked, and never over an existing file", async () => {
    const file = join(dir, "farm.sqlite");
    // Work goes on while the backup copies.
    const during = farm.submit({ suite: "bigmem-smoke", python: findTestPython(), tests: ["test_bool"] });
    const run = await runCli(["backup", file, "--data-dir", dataDir]);
    await during;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^backed up .*memfarm\.sqlite to .*farm\.sqlite \(.+, [12] jobs\)\n$/);
    assert.ok(jobsIn(file) >= 1);
    const again = await runCli(["backup", file, "--data-dir", dataDir]);
    assert.equal(again.code, 6);
    assert.match(again.stderr, /exists already: give a new file name/);
  });

  it("refuses to restore under a running farm, and restores into a stopped one, keeping what it replaced", async () => {
    const file = join(dir, "farm.sqlite");
    const refused = await runCli(["restore", file, "--data-dir", dataDir]);
    assert.equal(refused.code, 6);
    assert.match(refused.stderr, /in use by a farm already running \(pid \d+/);

    const stopped = join(dir, "stopped-farm");
    mkdirSync(stopped);
    const first = await runCli(["restore", file, "--data-dir", stopped, "--json"]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(JSON.parse(first.stdout).keptAs, null);
    assert.equal(jobsIn(join(stopped, "memfarm.sqlite")), jobsIn(file));
    const second = await runCli(["restore", file, "--data-dir", stopped, "--json"]);
    const keptAs = JSON.parse(second.stdout).keptAs as string;
    assert.match(keptAs, /memfarm\.sqlite\.before-restore-/);
    assert.ok(existsSync(keptAs));
    assert.equal(existsSync(join(stopped, "coordinator.lock")), false, "the lock is released");
  });

  it("refuses a file that is not a farm's database, in words", async () => {
    const junk = join(dir, "junk.sqlite");
    writeFileSync(
      junk,
      "not a database at all, just text that is long enough to be read as a header\n".repeat(10),
    );
    const run = await runCli(["restore", junk, "--data-dir", join(dir, "stopped-farm")]);
    assert.equal(run.code, 6);
    assert.match(run.stderr, /junk\.sqlite (is not an SQLite database|cannot be read as a farm database)/);
    assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
  });
});
