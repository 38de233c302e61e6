import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { processExists } from "../../agent/processes/process-tree.ts";
import type { AgentResource, JobResource } from "../../protocol/resources.ts";
import { CliProcess, runCli } from "../helpers/cli.ts";
import { makeJobsDir } from "../helpers/farm.ts";
import { findTestPython } from "../helpers/python.ts";
import { until } from "../helpers/until.ts";

/** A test file that runs a few seconds, and one that runs (with a child process) until killed. */
function localTestsJobsDir(): { jobsDir: string; testDir: string } {
  const testDir = mkdtempSync(join(tmpdir(), "memfarm-shutdown-tests-"));
  writeFileSync(
    join(testDir, "test_short.py"),
    "import time, unittest\nclass T(unittest.TestCase):\n    def test_a_while(self):\n        print('short started', flush=True)\n        time.sleep(4)\n",
  );
  writeFileSync(
    join(testDir, "test_slow.py"),
    "import subprocess, sys, time, unittest\nclass T(unittest.TestCase):\n    def test_sleep(self):\n        c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n        print('child pid', c.pid, flush=True)\n        time.sleep(300)\n",
  );
  const jobsDir = makeJobsDir({
    "local-tests": {
      description: "local",
      args: ["--testdir", testDir, "-v"],
      workers: 1,
      memlimit: "2G",
      timeoutSeconds: 600,
    },
  });
  return { jobsDir, testDir };
}

describe("shutting down in steps (real coordinator and agent processes)", () => {
  let dir: string;
  let coordinator: CliProcess;
  let nats: string;
  let env: NodeJS.ProcessEnv;
  let python: string;
  const agents: CliProcess[] = [];

  const startAgent = async (name: string, extra: string[] = []) => {
    const creds = join(dir, `${name}.nk`);
    const issued = await runCli(["agents", "creds", name, "--output", creds], env);
    if (issued.code !== 0) throw new Error(`agents creds: ${issued.stderr}`);
    const agent = new CliProcess([
      "agent",
      "--nats",
      nats,
      "--creds",
      creds,
      "--name",
      name,
      "--memory",
      "8G",
      "--work-dir",
      join(dir, name),
      ...extra,
    ]);
    agents.push(agent);
    await agent.waitFor(/joined the farm/);
    return agent;
  };
  const show = async (id: number) =>
    JSON.parse((await runCli(["show", String(id), "--json"], env)).stdout) as JobResource;
  const agentState = async (name: string) => {
    const { agents: list } = JSON.parse((await runCli(["hosts", "--json"], env)).stdout) as {
      agents: AgentResource[];
    };
    return list.find((agent) => agent.name === name)?.state;
  };
  const submit = async (tests: string) =>
    JSON.parse(
      (await runCli(["submit", "local-tests", "--python", python, "--tests", tests, "--json"], env)).stdout,
    ) as JobResource;
  const logMatch = (id: number, pattern: RegExp) =>
    until(
      async () => (await runCli(["logs", String(id)], env)).stdout.match(pattern) ?? undefined,
      `${pattern}`,
    );

  before(async () => {
    python = findTestPython();
    dir = mkdtempSync(join(tmpdir(), "memfarm-shutdown-"));
    const { jobsDir } = localTestsJobsDir();
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
    nats = (await coordinator.waitFor(/ agent --nats (\S+)/))[1] ?? "";
    env = { MEMFARM_URL: url, MEMFARM_DATA_DIR: join(dir, "data"), MEMFARM_TOKEN: "" };
  });
  after(async () => {
    for (const agent of agents) await agent.stop("SIGKILL");
    await coordinator?.stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("SIGTERM lets a running job finish and pass, takes no new job, and the agent exits 0", async () => {
    const agent = await startAgent("drainer");
    const job = await submit("test_short");
    await logMatch(job.id, /short started/);
    agent.child.kill("SIGTERM");
    await agent.waitFor(/draining: running jobs may finish for up to 600 s/);
    assert.equal(
      await until(async () => ((await agentState("drainer")) === "draining" ? true : undefined), "draining"),
      true,
    );
    const waiting = await submit("test_short");
    assert.equal(await agent.exited, 0);
    const done = await show(job.id);
    assert.equal(done.status, "passed");
    assert.equal(done.attempts.length, 1);
    const held = await show(waiting.id);
    assert.equal(held.status, "queued", "a draining agent takes no new job");
    assert.equal(held.attempts.filter((attempt) => attempt.agent === "drainer").length, 0);
    await runCli(["cancel", String(waiting.id)], env);
  });

  it("--drain-timeout 0 hands a running job back at once, and another agent runs it", async () => {
    const agent = await startAgent("quitter", ["--drain-timeout", "0"]);
    const job = await submit("test_slow");
    const childPid = Number((await logMatch(job.id, /child pid (\d+)/))[1]);
    agent.child.kill("SIGTERM");
    assert.equal(await agent.exited, 0);
    const requeued = await show(job.id);
    assert.equal(requeued.status, "queued");
    assert.equal(requeued.attempts[0]?.status, "handed_back");
    await logMatch(job.id, /agent quitter handed the job back .*waits for another agent/);
    assert.equal(processExists(childPid), false, "the job's process tree was stopped");

    await startAgent("taker");
    const rerun = await until(async () => {
      const current = await show(job.id);
      return current.status === "running" ? current : undefined;
    }, "the job to run again");
    assert.equal(rerun.agent, "taker");
    assert.deepEqual(
      rerun.attempts.map((attempt) => [attempt.agent, attempt.status]),
      [
        ["quitter", "handed_back"],
        ["taker", "running"],
      ],
    );
    await runCli(["cancel", String(job.id)], env);
    await until(async () => ((await show(job.id)).status === "canceled" ? true : undefined), "cancel");
  });

  it("a second signal kills the running job and exits at once", async () => {
    const agent = await startAgent("impatient");
    const job = await submit("test_slow");
    await until(async () => ((await show(job.id)).agent === "impatient" ? true : undefined), "placement");
    const childPid = Number((await logMatch(job.id, /child pid (\d+)/))[1]);
    agent.child.kill("SIGTERM");
    await agent.waitFor(/draining/);
    agent.child.kill("SIGTERM");
    assert.equal(await agent.exited, 130);
    await until(async () => (processExists(childPid) ? undefined : true), "the child to die", 5000);
    await runCli(["cancel", String(job.id)], env);
  });

  it("coordinator SIGTERM: mutating calls get 503 while requests in flight finish, then it exits 0", async () => {
    const url = env.MEMFARM_URL as string;
    const { port } = new URL(url);
    // A request in flight: headers sent (the server says 100 Continue), body still to come.
    const socket = connect(Number(port), "127.0.0.1");
    let answer = "";
    socket.on("data", (chunk) => {
      answer += chunk.toString();
    });
    const token = (await import("node:fs")).readFileSync(join(dir, "data", "admin-token"), "utf8").trim();
    socket.write(
      `POST /api/v1/agents/ghost/drain HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n`,
    );
    await until(async () => (answer.includes("100 Continue") ? true : undefined), "100 Continue");

    coordinator.child.kill("SIGTERM");
    const refused = await until(async () => {
      const response = await fetch(`${url}/api/v1/agents/ghost/undrain`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      });
      return response.status === 503 ? ((await response.json()) as { error: { code: string } }) : undefined;
    }, "a 503");
    assert.equal(refused.error.code, "shutting_down");
    assert.equal((await fetch(`${url}/api/v1/jobs`)).status, 200, "reads still work while draining");
    assert.equal((await fetch(`${url}/api/v1/healthz`)).status, 503);

    socket.write("{}");
    await until(async () => (/\r\n\r\n\{"error"/.test(answer) ? true : undefined), "the answer");
    assert.match(answer, /HTTP\/1\.1 400/);
    assert.match(answer, /unknown_agent/);
    socket.destroy();
    assert.equal(await coordinator.exited, 0);
  });
});
