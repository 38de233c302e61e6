import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { JobResource } from "../../protocol/resources.ts";
import { runCli } from "../helpers/cli.ts";
import { FakeCpython, localBuildSuite } from "../helpers/fake-cpython.ts";
import { finished, makeJobsDir, startFarm, type TestFarm } from "../helpers/farm.ts";
import { findTestPython } from "../helpers/python.ts";

const MiB = 1024 ** 2;

/**
 * Test files whose memory the test changes between two jobs: test_grows holds as many MiB as
 * grows-mib.txt says (64, then 320), test_steady always 32, and test_quick nothing.
 */
function writeTests(dir: string, growsMib: number): void {
  writeFileSync(join(dir, "grows-mib.txt"), String(growsMib));
  const holding = (mib: string) =>
    `import time, unittest\nclass T(unittest.TestCase):\n    def test_hold(self):\n        block = bytearray(${mib} * 1024 * 1024)\n        for i in range(0, len(block), 4096): block[i] = 1\n        time.sleep(1.5)\n`;
  writeFileSync(
    join(dir, "test_grows.py"),
    holding(`int(open(${JSON.stringify(join(dir, "grows-mib.txt"))}).read())`),
  );
  writeFileSync(join(dir, "test_steady.py"), holding("32"));
  writeFileSync(
    join(dir, "test_quick.py"),
    "import unittest\nclass T(unittest.TestCase):\n    def test_ok(self): pass\n",
  );
}

describe("memfarm compare, memfarm tests and the jobs filters, against a real farm", () => {
  let farm: TestFarm;
  let fixture: FakeCpython;
  let testDir: string;
  let env: NodeJS.ProcessEnv;
  let base: JobResource;
  let head: JobResource;
  const files = ["test_grows", "test_steady", "test_quick"];

  before(async () => {
    fixture = new FakeCpython();
    testDir = mkdtempSync(join(tmpdir(), "memfarm-compare-tests-"));
    writeTests(testDir, 64);
    farm = await startFarm({
      jobsDir: makeJobsDir({ "local-build": localBuildSuite(testDir) }),
      allowLocalRepos: true,
    });
    env = { MEMFARM_URL: farm.url, MEMFARM_TOKEN: farm.token };
    // The base builds a ref (as a pull request's base would); the head runs an installed interpreter.
    base = await farm.submit({ suite: "local-build", ref: "main", repo: fixture.url, tests: files });
    base = await farm.waitFor(base.id, finished);
    assert.equal(base.status, "passed", base.error ?? "");
    writeTests(testDir, 320);
    head = await farm.submit({ suite: "local-build", python: findTestPython(), tests: files });
    head = await farm.waitFor(head.id, finished);
    assert.equal(head.status, "passed", head.error ?? "");
  });
  after(async () => {
    await farm?.stop();
    rmSync(testDir, { recursive: true, force: true });
    if (fixture) rmSync(fixture.root, { recursive: true, force: true });
  });

  it("compare --json: both jobs' ref, commit and Python, and rows largest change first", async () => {
    const run = await runCli(["compare", String(base.id), String(head.id), "--json"], env);
    assert.equal(run.code, 0, run.stderr);
    const comparison = JSON.parse(run.stdout);
    assert.equal(comparison.base.id, base.id);
    assert.equal(comparison.base.ref, "main");
    assert.match(comparison.base.commit, /^[0-9a-f]{40}$/);
    assert.match(comparison.base.pythonVersion, /^3\.\d+/, "the built interpreter's version");
    assert.equal(comparison.head.ref, null);
    assert.equal(comparison.head.python, findTestPython());
    assert.match(comparison.head.pythonVersion, /^3\.\d+/);
    const grows = comparison.tests[0];
    assert.equal(grows.name, "test_grows", JSON.stringify(comparison.tests, null, 1));
    assert.equal(grows.kind, "file");
    assert.equal(grows.deltaBytes, grows.headPeakBytes - grows.basePeakBytes);
    assert.ok(grows.deltaBytes > 200 * MiB, `test_grows grew by ${grows.deltaBytes} bytes`);
    assert.ok(Math.abs(grows.growth - grows.deltaBytes / grows.basePeakBytes) < 1e-9);
    assert.equal(grows.baseOutcome, "passed");
    assert.equal(grows.headOutcome, "passed");
    const sizes = comparison.tests.map((test: { deltaBytes: number | null }) =>
      test.deltaBytes === null ? -1 : Math.abs(test.deltaBytes),
    );
    assert.deepEqual(
      sizes,
      [...sizes].sort((a, b) => b - a),
      "largest absolute change first",
    );
  });

  it("compare prints a header naming each job and a table with absolute and relative changes", async () => {
    const run = await runCli(["compare", String(base.id), String(head.id)], env);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.split("\n");
    const baseLine = lines.find((line) => line.startsWith("base")) ?? "";
    assert.match(
      baseLine,
      new RegExp(`\\b${base.id}\\b.*\\bmain\\b.*\\b${base.commit?.slice(0, 12)}\\b.*\\b3\\.\\d+`),
    );
    const headLine = lines.find((line) => line.startsWith("head")) ?? "";
    assert.ok(headLine.includes(findTestPython()), headLine);
    const firstRow = lines.find((line) => /^test_/.test(line)) ?? "";
    assert.match(firstRow, /^test_grows\s+file\s+\S+ MiB\s+\S+ MiB\s+\+\d+\.\d MiB\s+\+\d+\.\d%\s+passed$/);
    assert.ok(run.stdout.includes(`${farm.url}/compare?base=${base.id}&head=${head.id}`));
  });

  it("compare refuses a missing or unknown job with what to type", async () => {
    const one = await runCli(["compare", String(base.id)], env);
    assert.equal(one.code, 2);
    assert.match(one.stderr, /needs two job ids: "memfarm compare BASE_JOB HEAD_JOB"/);
    const unknown = await runCli(["compare", String(base.id), "9999"], env);
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /job 9999 does not exist/);
  });

  it("tests --sort peak|duration|name orders the job's table, and --json gives the API's tests", async () => {
    const byPeak = await runCli(["tests", String(head.id), "--json"], env);
    assert.equal(byPeak.code, 0, byPeak.stderr);
    const peaks = JSON.parse(byPeak.stdout).tests.filter((test: { kind: string }) => test.kind === "file");
    assert.deepEqual(
      peaks.map((test: { name: string }) => test.name),
      ["test_grows", "test_steady", "test_quick"],
      "the hungriest first, by default",
    );
    // Sequential, under this host's cgroup (or, without one, the watchdog's labelled fallback).
    for (const test of peaks) {
      assert.ok(
        ["cgroup", "process-tree", "process-tree-no-shm"].includes(test.peakMeasuredBy),
        `how ${test.name}'s peak was measured: ${test.peakMeasuredBy}`,
      );
    }
    const byName = JSON.parse(
      (await runCli(["tests", String(head.id), "--sort", "name", "--json"], env)).stdout,
    );
    const names = byName.tests.map((test: { name: string }) => test.name);
    assert.deepEqual(
      names,
      [...names].sort((a: string, b: string) => a.localeCompare(b)),
    );
    const byDuration = JSON.parse(
      (await runCli(["tests", String(head.id), "--sort", "duration", "--json"], env)).stdout,
    );
    const durations = byDuration.tests.map(
      (test: { durationSeconds: number | null }) => test.durationSeconds ?? -1,
    );
    assert.deepEqual(
      durations,
      [...durations].sort((a: number, b: number) => b - a),
    );
    const text = await runCli(["tests", String(head.id)], env);
    assert.match(
      text.stdout,
      /^TEST\s+KIND\s+OUTCOME\s+PEAK\s+MEASURED BY\s+DURATION\ntest_grows\s+file\s+passed\s+\d+\.\d MiB\s+(cgroup|processes(, no shm)?)\s+\d/,
    );
    const bad = await runCli(["tests", String(head.id), "--sort", "memory"], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--sort must be one of peak, duration, name, not "memory"/);
  });

  it("jobs --ref, --host and --pr filter as the API does", async () => {
    const list = async (...args: string[]) => {
      const run = await runCli(["jobs", "--json", ...args], env);
      assert.equal(run.code, 0, run.stderr);
      return (JSON.parse(run.stdout).jobs as JobResource[]).map((job) => job.id);
    };
    assert.deepEqual(await list("--ref", "main"), [base.id]);
    assert.deepEqual(await list("--host", "test-agent"), [head.id, base.id]);
    assert.deepEqual(await list("--host", "no-such-host"), []);
    // A pull request's jobs: those submitted by hand for its head ref count too.
    const pr = await farm.submit({
      suite: "local-build",
      ref: "pull/7/head",
      repo: fixture.url,
      tests: files,
    });
    await farm.waitFor(pr.id, finished);
    assert.deepEqual(await list("--pr", "7"), [pr.id]);
    assert.deepEqual(await list("--pr", "8"), []);
    const bad = await runCli(["jobs", "--pr", "seven"], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /pr must be a pull request number/);
  });
});
