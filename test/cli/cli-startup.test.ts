import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { PACKAGE_ROOT } from "../../coordinator/paths.ts";
import { CLI } from "../helpers/cli.ts";

const MODULE_LOG = join(PACKAGE_ROOT, "dist", "test", "helpers", "module-log.js");
/** The coordinator's stack, which a command that only talks HTTP must not wait for. */
const FARM_PACKAGES = /\/node_modules\/(express|@octokit\/[^/]+|ssh2|better-sqlite3)\//;

const dir = mkdtempSync(join(tmpdir(), "memfarm-cli-startup-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The farm packages `memfarm ARGS` loaded (it may fail: nothing listens at its URL). */
async function farmPackagesLoaded(args: string[], name: string): Promise<string[]> {
  const log = join(dir, `${name}.log`);
  await new Promise<void>((resolve) => {
    execFile(
      process.execPath,
      ["--import", MODULE_LOG, CLI, ...args],
      {
        // Port 1 on loopback: nothing listens, so jobs and show fail fast, after all their imports.
        env: {
          ...process.env,
          MEMFARM_MODULE_LOG: log,
          MEMFARM_URL: "http://127.0.0.1:1",
          XDG_CONFIG_HOME: dir,
        },
        timeout: 60_000,
      },
      () => resolve(),
    );
  });
  const urls = readFileSync(log, "utf8").split("\n");
  assert.ok(
    urls.some((url) => url.endsWith("/dist/cli/main.js")),
    `the hook saw no modules for ${name}`,
  );
  return [...new Set(urls.map((url) => FARM_PACKAGES.exec(url)?.[1]).filter((found) => found !== undefined))];
}

describe("memfarm start-up", () => {
  for (const args of [
    ["--help"],
    ["jobs"],
    ["show", "1"],
    ["jobs", "--help"],
    ["profiles"],
    ["compare", "1", "2"],
    ["tests", "1"],
  ]) {
    it(`memfarm ${args.join(" ")} loads none of express, octokit, ssh2, better-sqlite3`, async () => {
      assert.deepEqual(await farmPackagesLoaded(args, args.join("-")), []);
    });
  }

  it("memfarm coordinator loads them (so the check above can fail)", async () => {
    const loaded = await farmPackagesLoaded(["coordinator", "--no-such-option"], "coordinator");
    for (const name of ["express", "ssh2", "better-sqlite3"])
      assert.ok(loaded.includes(name), `${name} in ${loaded}`);
    assert.ok(
      loaded.some((found) => found.startsWith("@octokit/")),
      `octokit in ${loaded}`,
    );
  });
});
