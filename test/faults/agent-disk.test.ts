import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ReportJournal } from "../../agent/reports/report-journal.ts";
import { FakeCpython, localBuildSuite } from "../helpers/fake-cpython.ts";
import { finished, makeJobsDir, startFarm, type TestFarm } from "../helpers/farm.ts";
import { findTestPython } from "../helpers/python.ts";

/**
 * The agent's work dir fills up: during a run (a test writes more than the disk holds) and
 * during a build (the disk is full before the fetch). The job ends `error` saying so in words,
 * the agent stays up and runs the next job, and its report journal holds nothing broken.
 */
describe("faults: the agent's disk fills up", { timeout: 240_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "memfarm-agent-disk-"));
  const workDir = join(root, "work");
  let skip: string | false = false;
  let farm: TestFarm;
  let python: string;
  let cpython: FakeCpython;

  mkdirSync(workDir);
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=48m", "tmpfs", workDir], { stdio: "pipe" });
  } catch (thrown) {
    skip = `cannot mount a tmpfs here (${String(thrown).split("\n")[0]}); run as root`;
  }

  before(async () => {
    if (skip) return;
    python = findTestPython();
    cpython = new FakeCpython();
    const testDir = join(root, "tests");
    mkdirSync(testDir);
    writeFileSync(
      join(testDir, "test_writer.py"),
      [
        "import os, unittest",
        // Into the agent's work dir, the disk that fills (regrtest's own temp dir is elsewhere).
        `BIG = ${JSON.stringify(join(workDir, "big.bin"))}`,
        "class Writer(unittest.TestCase):",
        "    def test_write_a_lot(self):",
        "        try:",
        "            with open(BIG, 'wb') as out:",
        "                for _ in range(200):",
        "                    out.write(b'x' * (1024 * 1024))",
        "        finally:",
        "            os.remove(BIG)",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(testDir, "test_fine.py"),
      "import unittest\nclass Fine(unittest.TestCase):\n    def test_ok(self): pass\n",
    );
    const suite = {
      description: "tests that write files",
      args: ["--testdir", testDir, "-v"],
      workers: 1,
      memlimit: "2G",
      reservation: { perWorker: "256M", overhead: "128M" },
      timeoutSeconds: 300,
    };
    farm = await startFarm({
      agentWorkDir: workDir,
      allowLocalRepos: true,
      jobsDir: makeJobsDir({ writer: suite, "local-build": localBuildSuite(testDir) }),
    });
  });
  after(async () => {
    await farm?.stop();
    cpython?.remove();
    if (!skip) execFileSync("umount", ["-l", workDir]);
    rmSync(root, { recursive: true, force: true });
  });

  const agentOnline = async () =>
    ((await farm.api("/agents")).body.agents as { state: string }[]).every(
      (agent) => agent.state === "online",
    );

  it("ends a run that fills the disk as error, in words, and runs the next job", { skip }, async () => {
    const job = await farm.waitFor(
      (await farm.submit({ suite: "writer", python, tests: ["test_writer"] })).id,
      finished,
    );
    assert.equal(job.status, "error", job.error ?? "");
    assert.match(job.error ?? "", /no space left on the agent's disk \(its work dir .*work\)/);
    assert.ok(await agentOnline(), "the agent stays up");
    const next = await farm.waitFor(
      (await farm.submit({ suite: "writer", python, tests: ["test_fine"] })).id,
      finished,
    );
    assert.equal(next.status, "passed", next.error ?? "");
    const broken = ReportJournal.pending(join(workDir, "outbox")).filter((pending) =>
      pending.unacknowledged.some((line) => !line.startsWith("{")),
    );
    assert.deepEqual(broken, [], "no half-written report in the journal");
  });

  it("ends a build on a full disk as error, in words, and the agent stays up", { skip }, async () => {
    const filler = join(workDir, "filler");
    try {
      execFileSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=1M", "count=100"], { stdio: "pipe" });
    } catch {
      // dd stops at the end of the disk: that is the point.
    }
    try {
      const job = await farm.waitFor(
        (await farm.submit({ suite: "local-build", ref: "main", repo: cpython.url })).id,
        finished,
      );
      assert.equal(job.status, "error", job.error ?? "");
      assert.match(job.error ?? "", /no space left on the agent's disk/);
      assert.ok(await agentOnline(), "the agent stays up");
    } finally {
      rmSync(filler, { force: true });
    }
  });
});
