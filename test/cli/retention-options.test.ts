import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runCli } from "../helpers/cli.ts";

/** The backup and retention options of up and coordinator refuse what they cannot use, in words, before anything starts. */
describe("backup and retention options", () => {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-retention-options-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const refused = async (command: "up" | "coordinator", options: string[], message: RegExp) => {
    const run = await runCli([command, "--port", "0", "--data-dir", join(dir, "data"), ...options]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, message);
    assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
  };

  it("names the option and what to write instead", async () => {
    await refused("coordinator", ["--backup-keep", "3"], /--backup-keep needs --backup-dir DIR/);
    await refused(
      "up",
      ["--backup-dir", dir, "--backup-at", "3am"],
      /--backup-at must be a time of day in UTC as HH:MM/,
    );
    await refused(
      "coordinator",
      ["--backup-dir", dir, "--backup-keep", "0"],
      /--backup-keep must be a whole number of backups from 1 to 1000, not "0"/,
    );
    await refused(
      "coordinator",
      ["--keep-samples", "30"],
      /--keep-samples: "30" is 30s; it must be at least 1h \(or "forever"/,
    );
    await refused(
      "up",
      ["--keep-logs", "a month"],
      /--keep-logs: "a month" is not a duration.*\(or "forever"/,
    );
    await refused(
      "coordinator",
      ["--old-logs", "delete"],
      /--old-logs must be compress .* or drop .*, not "delete"/,
    );
  });

  it("refuses a backup folder it cannot write, before the farm starts", async () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "not a folder");
    const run = await runCli([
      "coordinator",
      "--port",
      "0",
      "--data-dir",
      join(dir, "data"),
      "--backup-dir",
      join(file, "sub"),
    ]);
    assert.notEqual(run.code, 0);
    assert.match(
      run.stderr,
      /--backup-dir .*a-file\/sub: the folder cannot be created or written \(ENOTDIR\)/,
    );
  });
});
