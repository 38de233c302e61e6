import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { finished, makeJobsDir, startFarm, type TestFarm } from "../helpers/farm.ts";
import { findTestPython } from "../helpers/python.ts";

const MiB = 1024 * 1024;

/** A job that eats past its memory limit, and one that goes silent: the agent ends both, and survives. */
describe("memory limits and timeouts through the whole farm", () => {
  let farm: TestFarm;
  let python: string;
  before(async () => {
    python = findTestPython();
    const testDir = mkdtempSync(join(tmpdir(), "memfarm-limit-tests-"));
    writeFileSync(
      join(testDir, "test_hog.py"),
      [
        "import unittest",
        "class Hog(unittest.TestCase):",
        "    def test_eat(self):",
        "        block = bytearray(400 * 1024 * 1024)",
        "        for i in range(0, len(block), 4096): block[i] = 1",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(testDir, "test_silent.py"),
      "import time, unittest\nclass Silent(unittest.TestCase):\n    def test_hang(self): time.sleep(300)\n",
    );
    // A 128 MiB limit: the suite reserves 64 MiB per worker plus 64 MiB, whatever regrtest's -M says.
    const small = {
      description: "tests with a small reservation",
      args: ["--testdir", testDir],
      workers: 1,
      memlimit: "2G",
      reservation: { perWorker: "64M", overhead: "64M" },
      timeoutSeconds: 600,
    };
    farm = await startFarm({
      jobsDir: makeJobsDir({ small, silent: { ...small, noOutputTimeoutSeconds: 2 } }),
    });
  });
  after(async () => {
    await farm?.stop();
  });

  it("ends a job that needs more than its limit as oom, with the limit and peak, and the agent stays up", async () => {
    const job = await farm.waitFor(
      (await farm.submit({ suite: "small", python, tests: ["test_hog"] })).id,
      finished,
    );
    assert.equal(job.status, "oom", `${job.status}: ${job.error}`);
    assert.equal(job.limitBytes, 128 * MiB);
    assert.ok(["cgroup-v2", "cgroup-v1", "watchdog"].includes(job.limitKind ?? ""), job.limitKind ?? "");
    assert.match(job.error ?? "", /more than its memory limit of 128\.0 MiB/);
    assert.ok(
      (job.peakRssBytes ?? 0) > 64 * MiB && (job.peakRssBytes ?? 0) < 200 * MiB,
      `peak ${job.peakRssBytes}`,
    );
    const agents = (await farm.api("/agents")).body as { agents: { state: string }[] };
    assert.equal(agents.agents[0]?.state, "online");
  });

  it("ends a job that prints nothing for too long as timed_out", async () => {
    const job = await farm.waitFor(
      (await farm.submit({ suite: "silent", python, tests: ["test_silent"] })).id,
      finished,
    );
    assert.equal(job.status, "timed_out");
    assert.match(job.error ?? "", /printed nothing for too long/);
  });
});
