import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { processExists } from "../../agent/processes/process-tree.ts";
import { CLEAR_LINE } from "../../cli/status-line.ts";
import type { JobResource } from "../../protocol/resources.ts";
import { CLI, CliProcess, type CliRun, processesMentioning, runCli } from "../helpers/cli.ts";
import { makeJobsDir } from "../helpers/farm.ts";
import { findTestPython } from "../helpers/python.ts";

function writeTests(dir: string): void {
  writeFileSync(
    join(dir, "test_failing.py"),
    "import unittest\nclass T(unittest.TestCase):\n    def test_bad(self): self.assertEqual(1, 2)\n",
  );
  writeFileSync(
    join(dir, "test_fine.py"),
    "import unittest\nclass T(unittest.TestCase):\n    def test_ok(self): pass\n",
  );
  writeFileSync(
    join(dir, "test_vanishes.py"),
    "import os, unittest\nclass T(unittest.TestCase):\n    def test_exit(self): os._exit(7)\n",
  );
  writeFileSync(
    join(dir, "test_brief.py"),
    "import time, unittest\nclass T(unittest.TestCase):\n    def test_hold(self):\n        block = bytearray(64 * 1024 * 1024)\n        time.sleep(2)\n",
  );
  writeFileSync(
    join(dir, "test_slow.py"),
    "import subprocess, sys, time, unittest\nclass T(unittest.TestCase):\n    def test_sleep(self):\n        c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n        print('child pid', c.pid, flush=True)\n        time.sleep(300)\n",
  );
}

/** The shipped suites plus `local-tests`, which runs the test files written into `testDir`. */
function localTestsJobsDir(testDir: string): string {
  writeTests(testDir);
  return makeJobsDir({
    "local-tests": {
      description: "local",
      args: ["--testdir", testDir],
      workers: 1,
      memlimit: "2G",
      timeoutSeconds: 600,
    },
    "local-tests-impatient": {
      description: "local, timed out after 3 s without output",
      args: ["--testdir", testDir],
      workers: 1,
      memlimit: "2G",
      timeoutSeconds: 600,
      noOutputTimeoutSeconds: 3,
    },
  });
}

/** A pseudo-terminal for a child: script(1) from util-linux, if installed. */
function scriptCommand(): string | null {
  try {
    return execFileSync("sh", ["-c", "command -v script"], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;

/** Runs the built CLI on a pseudo-terminal; returns what the terminal showed and the exit code. */
function runCliOnTerminal(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  const command = [process.execPath, CLI, ...args].map(quote).join(" ");
  return new Promise((resolve) => {
    execFile(
      script,
      ["-qfec", command, "/dev/null"],
      { env: { ...process.env, ...env }, timeout: 180_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Waits until the job list shows a job with `status`, and returns its id. */
async function waitForStatus(env: NodeJS.ProcessEnv, status: string): Promise<number> {
  for (let tries = 0; tries < 300; tries += 1) {
    const list = JSON.parse((await runCli(["jobs", "--json", "--status", status], env)).stdout) as {
      jobs: JobResource[];
    };
    const job = list.jobs[0];
    if (job) return job.id;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no ${status} job`);
}

describe("the memfarm CLI, as separate processes (coordinator, agent, client)", () => {
  let dir: string;
  let coordinator: CliProcess;
  let agent: CliProcess;
  let env: NodeJS.ProcessEnv;
  let python: string;

  before(async () => {
    python = findTestPython();
    dir = mkdtempSync(join(tmpdir(), "memfarm-cli-"));
    const testDir = mkdtempSync(join(tmpdir(), "memfarm-cli-tests-"));
    const jobsDir = localTestsJobsDir(testDir);
    coordinator = new CliProcess([
      "coordinator",
      "--port",
      "0",
      "--data-dir",
      join(dir, "data"),
      "--jobs-dir",
      jobsDir,
    ]);
    const [, url] = await coordinator.waitFor(/Dashboard:\s+(http:\/\/\S+?)\/\n/);
    const [, nats, localCreds] = await coordinator.waitFor(/ agent --nats (\S+) --creds (\S+) --name \S+\n/);
    assert.ok(
      localCreds?.startsWith(join(dir, "data")),
      "the join line names a credentials file in the data dir",
    );
    env = { MEMFARM_URL: url, MEMFARM_DATA_DIR: join(dir, "data"), MEMFARM_TOKEN: "" };
    const credsFile = join(dir, "cli-agent.nk");
    const issued = await runCli(["agents", "creds", "cli-agent", "--output", credsFile], env);
    assert.equal(issued.code, 0, issued.stderr);
    assert.equal(statSync(credsFile).mode & 0o777, 0o600);
    agent = new CliProcess([
      "agent",
      "--nats",
      nats ?? "",
      "--creds",
      credsFile,
      "--name",
      "cli-agent",
      "--memory",
      "8G",
      "--work-dir",
      join(dir, "agent"),
      "--sample-interval-ms",
      "200",
    ]);
    await agent.waitFor(/joined the farm/);
  });
  after(async () => {
    await agent?.stop();
    await coordinator?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("submit --follow streams the log and exits 0 when the job passed", async () => {
    const run = await runCli(
      ["submit", "local-tests", "--python", python, "--tests", "test_fine", "--follow"],
      env,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /\[1\/1\] test_fine/);
    assert.match(run.stdout, /job \d+ passed/);
    assert.ok(
      !run.stdout.includes("\r") && !run.stdout.includes(CLEAR_LINE),
      "piped output has no status line, only plain lines",
    );
  });

  it("submit --follow on a terminal keeps a status line with phase, elapsed, memory and test under the log", async (t) => {
    const script = scriptCommand();
    if (!script) {
      t.skip("no script(1) here; test/unit/status-line.test.ts checks the renderer");
      return;
    }
    const run = await runCliOnTerminal(
      script,
      ["submit", "local-tests", "--python", python, "--tests", "test_brief", "--follow"],
      env,
    );
    assert.equal(run.code, 0, run.stdout);
    const shown = run.stdout.replaceAll(CLEAR_LINE, "<clear>");
    assert.match(
      shown,
      /<clear>job \d+ running \| \d+\.\ds \| mem \d+(\.\d)? [KMG]iB \| peak \d+(\.\d)? [KMG]iB \| \[1\/1\] test_brief/,
    );
    // Each log line is printed whole after the status line is erased, never mixed into it.
    assert.match(shown, /<clear>[^\r\n<]*\[1\/1\] test_brief\r?\n/);
    assert.match(shown, /<clear>(?:\S+ )*Tests? result: SUCCESS\r?\n/);
    assert.match(shown, /<clear>job \d+ passed; duration/, "the status line is erased before the summary");
  });

  it("submit --follow exits with the outcome's code: 4 timed out, 5 canceled, 6 error", async () => {
    const timedOut = await runCli(
      ["submit", "local-tests-impatient", "--python", python, "--tests", "test_slow", "--follow"],
      env,
    );
    assert.equal(timedOut.code, 4, timedOut.stderr);
    assert.match(timedOut.stdout, /job \d+ timed_out/);

    const following = runCli(
      ["submit", "local-tests", "--python", python, "--tests", "test_slow", "--follow"],
      env,
    );
    const id = await waitForStatus(env, "running");
    assert.equal((await runCli(["cancel", String(id)], env)).code, 0);
    const canceled = await following;
    assert.equal(canceled.code, 5, canceled.stderr);
    assert.match(canceled.stdout, new RegExp(`job ${id} canceled`));
    const logsFollow = await runCli(["logs", String(id), "--follow"], env);
    assert.equal(logsFollow.code, 5, "logs --follow exits with the outcome too");

    // The interpreter dies under regrtest: the farm could not run the tests.
    const broken = await runCli(
      ["submit", "local-tests", "--python", python, "--tests", "test_vanishes", "--follow", "--json"],
      env,
    );
    assert.equal(broken.code, 6, broken.stderr);
    const final = JSON.parse(broken.stdout) as JobResource;
    assert.equal(final.status, "error");
    assert.match(final.error ?? "", /exited with code 7/, "the job says why it could not run");
  });

  it("submit --follow exits 1 and names the failing test when tests fail", async () => {
    const run = await runCli(
      ["submit", "local-tests", "--python", python, "--tests", "test_failing,test_fine", "--follow"],
      env,
    );
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /job \d+ failed; .*failed: test_failing/);
  });

  it("jobs, show, logs and hosts print the same facts as the API, also as JSON", async () => {
    const list = await runCli(["jobs", "--json"], env);
    assert.equal(list.code, 0, list.stderr);
    const { jobs } = JSON.parse(list.stdout) as { jobs: JobResource[] };
    const failed = jobs.find((job) => job.status === "failed");
    assert.ok(failed);
    const show = await runCli(["show", String(failed.id), "--json"], env);
    assert.deepEqual((JSON.parse(show.stdout) as JobResource).failedTests, failed.failedTests);
    const human = await runCli(["show", String(failed.id)], env);
    assert.match(human.stdout, /Status\s+failed/);
    assert.match(human.stdout, /Failed tests\s+test_failing/);
    const table = await runCli(["jobs"], env);
    assert.match(table.stdout, new RegExp(`${failed.id}\\s+local-tests\\s+failed\\s+cli-agent`));
    const logs = await runCli(["logs", String(failed.id)], env);
    assert.match(logs.stdout, /Result: FAILURE|Tests result: FAILURE/);
    const hosts = await runCli(["hosts", "--json"], env);
    const { agents } = JSON.parse(hosts.stdout) as {
      agents: { name: string; memoryBytes: number; state: string }[];
    };
    assert.deepEqual(
      agents.map((agent) => [agent.name, agent.state, agent.memoryBytes]),
      [["cli-agent", "online", 8 * 1024 ** 3]],
    );
  });

  it("refuses bad input with exit 2 and a message that says what to change", async () => {
    const small = await runCli(["submit", "local-tests", "--python", python, "--memlimit", "1G"], env);
    assert.equal(small.code, 2);
    assert.match(small.stderr, /regrtest refuses a memlimit under 2 GiB/);
    const notASize = await runCli(["submit", "local-tests", "--python", python, "--memlimit", "60 gigs"], {
      MEMFARM_URL: "http://127.0.0.1:9",
    });
    assert.equal(notASize.code, 2, "a bad size is refused before the coordinator is asked");
    assert.match(notASize.stderr, /"60 gigs" is not a size; write a number with a unit K, M, G or T/);
    const unknown = await runCli(["show", "424242"], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /job 424242 does not exist; memfarm jobs lists the jobs/);
    const unknownLogs = await runCli(["logs", "424242", "--follow"], env);
    assert.equal(unknownLogs.code, 2);
    assert.match(unknownLogs.stderr, /job 424242 does not exist/);
    const noToken = await runCli(["submit", "local-tests", "--python", python], {
      ...env,
      MEMFARM_DATA_DIR: join(dir, "nowhere"),
    });
    assert.equal(noToken.code, 2);
    assert.match(
      noToken.stderr,
      /needs an API token: send the API token as Authorization: Bearer TOKEN .*the CLI takes --token or MEMFARM_TOKEN/,
    );
    const badToken = await runCli(["cancel", "1"], { ...env, MEMFARM_TOKEN: "mf_not-a-token" });
    assert.equal(badToken.code, 2);
    assert.match(badToken.stderr, /the token is not valid .*ask the farm's admin for a new one/);
  });

  it("says where it looked when the coordinator is unreachable, and how to start one", async () => {
    for (const args of [["jobs"], ["show", "1", "--json"], ["logs", "1", "--follow"]]) {
      const run = await runCli(args, { MEMFARM_URL: "http://127.0.0.1:9" });
      assert.equal(run.code, 7, args.join(" "));
      assert.match(run.stderr, /cannot reach the coordinator at http:\/\/127\.0\.0\.1:9.*memfarm up.*--url/);
      assert.equal(run.stdout, "", "nothing on stdout for a script to misread");
    }
  });

  it("cancel stops a running job's whole process tree", async () => {
    const submitted = await runCli(
      ["submit", "local-tests", "--python", python, "--tests", "test_slow", "--json"],
      env,
    );
    const job = JSON.parse(submitted.stdout) as JobResource;
    let childPid = 0;
    for (let tries = 0; tries < 200 && childPid === 0; tries += 1) {
      const logs = await runCli(["logs", String(job.id)], env);
      childPid = Number(/child pid (\d+)/.exec(logs.stdout)?.[1] ?? 0);
      if (childPid === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(childPid > 0);
    const cancel = await runCli(["cancel", String(job.id)], env);
    assert.equal(cancel.code, 0, cancel.stderr);
    const follow = await runCli(["logs", String(job.id), "--follow"], env);
    assert.match(follow.stderr, /canceled/);
    assert.equal(processExists(childPid), false);
  });

  it("stops the coordinator and its nats-server on Ctrl-C", async () => {
    const dataDir = join(dir, "data");
    assert.ok(processesMentioning(dataDir).length > 0, "the embedded nats-server runs with the data dir");
    await agent.stop();
    assert.equal(await coordinator.stop("SIGINT"), 0);
    assert.deepEqual(processesMentioning(dataDir), []);
    assert.ok(readFileSync(join(dataDir, "admin-token"), "utf8").startsWith("mf_"));
  });
});

describe("memfarm --help", () => {
  it("documents every command with an example, and the exit codes", async () => {
    const main = await runCli(["--help"]);
    assert.equal(main.code, 0);
    assert.match(main.stdout, /Exit codes/);
    assert.match(main.stdout, /3 {2}the job ran out of memory \(oom\)/);
    const commands = [...main.stdout.matchAll(/^ {2}([a-z]+)(?: [A-Z]+)? {2,}/gm)].map(
      (match) => match[1] ?? "",
    );
    assert.ok(commands.includes("submit") && commands.includes("tokens"), commands.join(","));
    for (const command of commands) {
      const help = await runCli([command, "--help"]);
      assert.equal(help.code, 0, command);
      assert.match(help.stdout, new RegExp(`^memfarm ${command}`), command);
      assert.match(help.stdout, /Examples?:\n {2}memfarm /, `${command} --help has an example`);
    }
  });
});

describe("memfarm coordinator with a broken suite file", () => {
  it("does not start, and names the file and the field", async () => {
    const jobsDir = makeJobsDir({
      broken: { description: "x", args: [], workers: 1, memlimit: "1G", timeoutSeconds: 60 },
    });
    const dataDir = mkdtempSync(join(tmpdir(), "memfarm-broken-"));
    const run = await runCli(["coordinator", "--port", "0", "--data-dir", dataDir, "--jobs-dir", jobsDir]);
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /broken\.json \(field "memlimit"\): memlimit: "1G" is 1\.0 GiB; regrtest refuses/,
    );
    assert.deepEqual(processesMentioning(dataDir), [], "no nats-server was left running");
    rmSync(dataDir, { recursive: true, force: true });
  });
});

describe("memfarm up", () => {
  it("starts a whole farm, and Ctrl-C leaves no nats-server or test process behind", async () => {
    const python = findTestPython();
    const dir = mkdtempSync(join(tmpdir(), "memfarm-up-"));
    const testDir = mkdtempSync(join(tmpdir(), "memfarm-up-tests-"));
    const jobsDir = localTestsJobsDir(testDir);
    const up = new CliProcess([
      "up",
      "--port",
      "0",
      "--data-dir",
      join(dir, "data"),
      "--jobs-dir",
      jobsDir,
      "--memory",
      "8G",
    ]);
    try {
      const [, url] = await up.waitFor(/Dashboard:\s+(http:\/\/\S+?)\/\n/);
      await up.waitFor(/ submit bigmem-smoke --python/);
      const env = { MEMFARM_URL: url, MEMFARM_DATA_DIR: join(dir, "data") };
      const hosts = JSON.parse((await runCli(["hosts", "--json"], env)).stdout) as {
        agents: { cores: number; arch: string; memoryBytes: number }[];
      };
      assert.equal(hosts.agents.length, 1);
      assert.equal(hosts.agents[0]?.memoryBytes, 8 * 1024 ** 3);
      const job = JSON.parse(
        (await runCli(["submit", "local-tests", "--python", python, "--tests", "test_slow", "--json"], env))
          .stdout,
      ) as JobResource;
      let childPid = 0;
      for (let tries = 0; tries < 200 && childPid === 0; tries += 1) {
        childPid = Number(
          /child pid (\d+)/.exec((await runCli(["logs", String(job.id)], env)).stdout)?.[1] ?? 0,
        );
        if (childPid === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(childPid > 0);
      assert.equal(await up.stop("SIGINT"), 0);
      assert.equal(processExists(childPid), false, "the test's process tree was killed");
      assert.deepEqual(processesMentioning(join(dir, "data")), [], "the nats-server is gone");
      assert.deepEqual(processesMentioning(testDir), [], "no regrtest process is left");
    } finally {
      await up.stop("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
