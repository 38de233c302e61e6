import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { finished, makeJobsDir, startFarm, type TestFarm } from "../helpers/farm.ts";
import { findTestPython } from "../helpers/python.ts";

/**
 * A hostile test: it writes 4 MB without a newline, then 300 lines of 100 KB. Lines are stored cut
 * at 8 KiB; the job page must still stay small and show where lines were cut, and the download has
 * what was stored.
 */
describe("faults: a test that floods its log with huge lines", { timeout: 240_000 }, () => {
  let farm: TestFarm;
  let python: string;
  before(async () => {
    python = findTestPython();
    const testDir = mkdtempSync(join(tmpdir(), "memfarm-flood-tests-"));
    writeFileSync(
      join(testDir, "test_flood.py"),
      [
        "import sys, unittest",
        "class Flood(unittest.TestCase):",
        "    def test_flood(self):",
        "        sys.stdout.write('x' * 4_000_000)",
        "        sys.stdout.flush()",
        "        for i in range(300):",
        "            print(str(i) + ' ' + 'y' * 100_000, flush=True)",
        "",
      ].join("\n"),
    );
    farm = await startFarm({
      jobsDir: makeJobsDir({
        flood: {
          description: "a test with huge output lines",
          args: ["--testdir", testDir, "-v"],
          workers: 1,
          memlimit: "2G",
          reservation: { perWorker: "256M", overhead: "128M" },
          timeoutSeconds: 600,
        },
      }),
    });
  });
  after(async () => {
    await farm?.stop();
  });

  it("keeps the job page under 1 MB with the long lines cut there, and the whole log a download away", async () => {
    const job = await farm.waitFor(
      (await farm.submit({ suite: "flood", python, tests: ["test_flood"] })).id,
      finished,
    );
    assert.equal(job.status, "passed", job.error ?? "");
    const page = await fetch(`${farm.url}/jobs/${job.id}`);
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.ok(html.length < 1024 * 1024, `the page is ${html.length} bytes`);
    assert.match(html, /more characters<\/span>/, "a cut line says so");
    assert.match(html, /long lines are cut here, whole in the download/);
    assert.match(html, /299 y{100}/, "the newest lines are on the page");
    const download = await fetch(`${farm.url}/api/v1/jobs/${job.id}/log?format=text`, {
      headers: { authorization: `Bearer ${farm.token}` },
    });
    const text = await download.text();
    assert.ok(text.length > 300 * 8192, `the download holds ${text.length} characters`);
  });
});
