import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { processExists } from "../../agent/processes/process-tree.ts";
import type { JobResource } from "../../protocol/resources.ts";
import { finished, makeJobsDir, startFarm, type TestFarm } from "../helpers/farm.ts";
import { findTestPython } from "../helpers/python.ts";

/** A test directory for regrtest's --testdir: one passing, one failing and one slow test file. */
function writeTestDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-testdir-"));
  writeFileSync(
    join(dir, "test_failing.py"),
    [
      "import unittest",
      "class Arithmetic(unittest.TestCase):",
      "    def test_ok(self): pass",
      "    def test_wrong_sum(self): self.assertEqual(1 + 1, 3)",
      "    @unittest.skip('not today')",
      "    def test_skipped(self): pass",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(dir, "test_fine.py"),
    "import unittest\nclass Fine(unittest.TestCase):\n    def test_ok(self): pass\n",
  );
  writeFileSync(
    join(dir, "test_slow.py"),
    [
      "import subprocess, sys, time, unittest",
      "class Slow(unittest.TestCase):",
      "    def test_sleep(self):",
      "        # A child process too, so cancel must kill a whole tree.",
      "        child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])",
      "        print('child pid', child.pid, flush=True)",
      "        time.sleep(300)",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(dir, "test_noisy.py"),
    [
      "import sys, unittest",
      "class Noisy(unittest.TestCase):",
      "    def test_talk(self):",
      "        for i in range(20000): print('noise', i, 'x' * 100)",
      "        print('y' * 100000)",
      "        print('done talking', flush=True)",
      "",
    ].join("\n"),
  );
  return dir;
}

describe("a whole farm on real parts: nats-server, SQLite, CPython regrtest", () => {
  let farm: TestFarm;
  let python: string;
  before(async () => {
    python = findTestPython();
    const testDir = writeTestDir();
    const local = {
      description: "tests from the test's own --testdir",
      workers: 1,
      memlimit: "2G",
      timeoutSeconds: 600,
    };
    farm = await startFarm({
      jobsDir: makeJobsDir({
        "local-tests": { ...local, args: ["--testdir", testDir, "-v", "--junit-xml", "results.xml"] },
        // JUnit XML capture hides the tests' own output; the cancel test reads its child's pid from the log.
        "local-tests-verbose": { ...local, args: ["--testdir", testDir, "-v"] },
        "local-tests-quiet": { ...local, args: ["--testdir", testDir] },
      }),
    });
  });
  after(async () => {
    await farm?.stop();
  });

  it("runs a passing regrtest job and records outcome, counts, peak memory, log and samples", async () => {
    const queued = await farm.submit({ suite: "bigmem-smoke", python, tests: ["test_bool"] });
    assert.equal(queued.status, "queued");
    const job = await farm.waitFor(queued.id, finished);
    assert.equal(job.status, "passed", job.error ?? "");
    assert.equal(job.exitCode, 0);
    assert.equal(job.agent, "test-agent");
    assert.ok(job.counts && job.counts.run > 0 && job.counts.failed === 0, JSON.stringify(job.counts));
    assert.ok((job.peakRssBytes ?? 0) > 1024 * 1024, `peak ${job.peakRssBytes}`);
    assert.deepEqual(job.args.slice(-3), ["-M", "2G", "test_bool"]);
    assert.deepEqual(
      job.attempts.map((attempt) => attempt.status),
      ["passed"],
    );
    const log = (await farm.api(`/jobs/${job.id}/log`)).body as { lines: { text: string }[] };
    assert.ok(
      log.lines.some((line) => line.text.includes("test_bool")),
      "the log has regrtest's progress line",
    );
    assert.ok(log.lines.some((line) => /[Rr]esult: SUCCESS/.test(line.text)));
  });

  it("runs a failing test module and records which test failed", async () => {
    const queued = await farm.submit({ suite: "local-tests", python, tests: ["test_failing", "test_fine"] });
    const job = await farm.waitFor(queued.id, finished);
    assert.equal(job.status, "failed");
    assert.equal(job.exitCode, 2);
    assert.deepEqual(job.failedTests, ["test_failing.Arithmetic.test_wrong_sum"]);
    if (job.counts) assert.equal(job.counts.failed, 1);
    const { tests } = (await farm.api(`/jobs/${job.id}/tests`)).body as {
      tests: {
        name: string;
        kind: string;
        outcome: string;
        detail: string | null;
        peakRssBytes: number | null;
      }[];
    };
    const outcomes = Object.fromEntries(tests.map((test) => [`${test.kind} ${test.name}`, test.outcome]));
    assert.equal(outcomes["file test_failing"], "failed");
    assert.equal(outcomes["file test_fine"], "passed");
    assert.equal(outcomes["case test_failing.Arithmetic.test_wrong_sum"], "failed");
    assert.equal(outcomes["case test_failing.Arithmetic.test_ok"], "passed");
    assert.equal(outcomes["case test_failing.Arithmetic.test_skipped"], "skipped");
    assert.equal(tests.find((test) => test.name.endsWith("test_skipped"))?.detail, "not today");
    const wrongSum = tests.find((test) => test.name.endsWith("test_wrong_sum"));
    assert.match(
      wrongSum?.detail ?? "",
      /Traceback[\s\S]*AssertionError: 2 != 3/,
      "the traceback from the JUnit XML",
    );
    const cases = tests.filter((test) => test.kind === "case");
    assert.ok(
      cases.every((test) => (test.peakRssBytes ?? 0) > 1024 * 1024),
      "each case has its kernel peak",
    );
  });

  it("names the failing file when regrtest does not print the test case", async () => {
    const job = await farm.waitFor(
      (await farm.submit({ suite: "local-tests-quiet", python, tests: ["test_failing"] })).id,
      finished,
    );
    assert.equal(job.status, "failed");
    assert.deepEqual(job.failedTests, ["test_failing"]);
  });

  it("cancels a running job and leaves no test process behind", async () => {
    const queued = await farm.submit({ suite: "local-tests-verbose", python, tests: ["test_slow"] });
    await farm.waitFor(queued.id, (job) => job.status === "running");
    let childPid = 0;
    for (let tries = 0; tries < 100 && childPid === 0; tries += 1) {
      const log = (await farm.api(`/jobs/${queued.id}/log`)).body as { lines: { text: string }[] };
      const match = log.lines.map((entry) => /child pid (\d+)/.exec(entry.text)).find(Boolean);
      childPid = match ? Number(match[1]) : 0;
      if (childPid === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(childPid > 0, "the slow test started its child");
    const canceled = await farm.api(`/jobs/${queued.id}/cancel`, { method: "POST" });
    assert.equal(canceled.status, 200);
    const job = await farm.waitFor(queued.id, finished);
    assert.equal(job.status, "canceled");
    assert.equal(processExists(childPid), false, "the test's child process was killed too");
  });

  it("keeps a large log whole, in order, with very long lines cut", async () => {
    const job = await farm.waitFor(
      (await farm.submit({ suite: "local-tests-verbose", python, tests: ["test_noisy"] })).id,
      finished,
    );
    assert.equal(job.status, "passed", job.error ?? "");
    const { lines } = (await farm.api(`/jobs/${job.id}/log`)).body as {
      lines: { lineNo: number; text: string }[];
    };
    // The first one shares its line with unittest's "test_talk (...) ... ".
    const noise = lines.flatMap((line) => /noise (\d+) x/.exec(line.text)?.[1] ?? []).map(Number);
    assert.equal(noise.length, 20000);
    assert.ok(
      noise.every((number, index) => number === index),
      "in order, none lost",
    );
    assert.ok(lines.some((line) => line.text.endsWith("[line cut]") && line.text.length < 9000));
    assert.ok(lines.some((line) => line.text.includes("done talking")));
    assert.deepEqual(
      lines.map((line) => line.lineNo),
      lines.map((_, index) => index + 1),
    );
  });

  it("answers bad input with a 4xx a person can act on, creates no job, and keeps running", async () => {
    const before = ((await farm.api("/jobs?limit=500")).body as { jobs: JobResource[] }).jobs.length;
    const cases: [
      string,
      { body?: unknown; raw?: string; token?: string | null },
      number,
      string,
      string?,
    ][] = [
      [
        "memlimit 1G",
        { body: { suite: "bigmem-smoke", python, memlimit: "1G" } },
        400,
        "memlimit_too_small",
        "memlimit",
      ],
      [
        "memlimit 12Q",
        { body: { suite: "bigmem-smoke", python, memlimit: "12Q" } },
        400,
        "invalid_size",
        "memlimit",
      ],
      ["unknown suite", { body: { suite: "bigmemm", python } }, 400, "unknown_suite", "suite"],
      [
        "missing interpreter",
        { body: { suite: "bigmem-smoke", python: "/nonexistent/python3" } },
        400,
        "python_not_usable",
        "python",
      ],
      [
        "relative interpreter",
        { body: { suite: "bigmem-smoke", python: "python3" } },
        400,
        "invalid_python",
        "python",
      ],
      [
        "a file that is not python",
        { body: { suite: "bigmem-smoke", python: "/bin/true" } },
        400,
        "python_not_usable",
        "python",
      ],
      [
        "option as a test name",
        { body: { suite: "bigmem-smoke", python, tests: ["--use=all"] } },
        400,
        "invalid_test_name",
        "tests",
      ],
      [
        "shell in a test name",
        { body: { suite: "bigmem-smoke", python, tests: ["test_x; rm -rf /"] } },
        400,
        "invalid_test_name",
        "tests",
      ],
      [
        "unknown field",
        { body: { suite: "bigmem-smoke", python, memlimt: "4G" } },
        400,
        "unknown_field",
        "memlimt",
      ],
      ["not JSON", { raw: "{suite: bigmem" }, 400, "invalid_json"],
      ["JSON but not an object", { raw: "[1,2]" }, 400, "invalid_type"],
      ["too large", { raw: JSON.stringify({ suite: "x".repeat(100_000) }) }, 413, "body_too_large"],
      ["no token", { body: { suite: "bigmem-smoke", python }, token: null }, 401, "unauthorized"],
      ["wrong token", { body: { suite: "bigmem-smoke", python }, token: "mf_wrong" }, 401, "unauthorized"],
    ];
    for (const [name, init, status, code, field] of cases) {
      const response = await farm.api("/jobs", { ...init, method: "POST" });
      assert.equal(response.status, status, `${name}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.error.code, code, name);
      assert.ok(response.body.error.message.length > 10, name);
      if (field) assert.equal(response.body.error.field, field, name);
    }
    assert.equal((await farm.api("/jobs/abc")).status, 400);
    assert.equal((await farm.api("/jobs/999999")).status, 404);
    assert.equal((await farm.api("/jobs?status=bogus")).status, 400);
    const afterCount = ((await farm.api("/jobs?limit=500")).body as { jobs: JobResource[] }).jobs.length;
    assert.equal(afterCount, before, "no job was created");
    assert.equal((await fetch(`${farm.url}/healthz`)).status, 200);
  });

  it("shows the same facts in the API, the agents list and the dashboard", async () => {
    const { jobs } = (await farm.api("/jobs?status=passed")).body as { jobs: JobResource[] };
    const job = jobs[0];
    assert.ok(job);
    const agents = (await farm.api("/agents")).body as {
      agents: { name: string; state: string; memoryBytes: number }[];
    };
    assert.deepEqual(
      agents.agents.map((agent) => [agent.name, agent.state, agent.memoryBytes]),
      [["test-agent", "online", 16 * 1024 ** 3]],
    );
    const list = await (await fetch(`${farm.url}/`)).text();
    assert.match(list, new RegExp(`href="/jobs/${job.id}"`));
    const page = await (await fetch(`${farm.url}/jobs/${job.id}`)).text();
    assert.match(page, /status-passed/);
    assert.match(page, /[Rr]esult: SUCCESS/);
    assert.match(page, /<polyline class="rss"/);
    const hosts = await (await fetch(`${farm.url}/hosts`)).text();
    assert.match(hosts, /test-agent/);
    const samples = (await farm.api(`/jobs/${job.id}/samples`)).body as { samples: unknown[] };
    assert.ok(samples.samples.length > 0);
  });
});
