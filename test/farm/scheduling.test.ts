import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { AgentResource, JobResource } from "../../protocol/resources.ts";
import { finished, makeJobsDir, startFarm, type TestFarm } from "../helpers/farm.ts";
import { findTestPython } from "../helpers/python.ts";

const GiB = 1024 ** 3;

/**
 * A real agent that advertises 3 GiB (2 GiB of capacity after the 1 GiB
 * headroom) and jobs that reserve 1 GiB each: two fit at once, the rest wait.
 */
describe("memory-aware scheduling through the whole farm", () => {
  let farm: TestFarm;
  let python: string;
  before(async () => {
    python = findTestPython();
    const testDir = mkdtempSync(join(tmpdir(), "memfarm-sched-tests-"));
    writeFileSync(
      join(testDir, "test_pause.py"),
      "import time, unittest\nclass T(unittest.TestCase):\n    def test_pause(self): time.sleep(2)\n",
    );
    farm = await startFarm({
      memory: "3G",
      jobsDir: makeJobsDir({
        "one-gib": {
          description: "a job that reserves 1 GiB",
          args: ["--testdir", testDir],
          workers: 1,
          memlimit: "2G",
          reservation: { perWorker: "512M", overhead: "512M" },
          timeoutSeconds: 120,
        },
      }),
    });
  });
  after(async () => {
    await farm?.stop();
  });

  const agent = async () =>
    ((await farm.api("/agents")).body as { agents: AgentResource[] }).agents[0] as AgentResource;
  const job = async (id: number) => (await farm.api(`/jobs/${id}`)).body as JobResource;

  it("never reserves more than the host offers: the third job waits, with the reason", async () => {
    assert.equal((await agent()).capacityBytes, 2 * GiB);
    const ids: number[] = [];
    for (let index = 0; index < 4; index += 1) {
      ids.push((await farm.submit({ suite: "one-gib", python, tests: ["test_pause"] })).id);
    }
    let sawWaiting = false;
    while (true) {
      const state = await agent();
      assert.ok(
        state.reservedBytes <= state.capacityBytes,
        `reserved ${state.reservedBytes} of ${state.capacityBytes}`,
      );
      assert.ok(state.runningJobs.length <= 2);
      const jobs = await Promise.all(ids.map(job));
      const waiting = jobs.filter((entry) => entry.status === "queued");
      if (waiting.some((entry) => /waiting for 1\.0 GiB of free memory/.test(entry.heldReason ?? "")))
        sawWaiting = true;
      if (jobs.every(finished)) {
        assert.ok(jobs.every((entry) => entry.status === "passed"));
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(sawWaiting, "a waiting job said why it waits");
  });

  it("refuses a job that no agent could ever hold, saying why", async () => {
    const response = await farm.api("/jobs", { body: { suite: "bigmem-smoke", python } });
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, "never_runnable");
    assert.match(response.body.error.message, /needs 2\.5 GiB but the largest/);
  });

  it("a draining agent finishes what it runs and takes nothing new until undrained", async () => {
    const running = await farm.submit({ suite: "one-gib", python, tests: ["test_pause"] });
    await farm.waitFor(running.id, (entry) => entry.status === "running");
    assert.equal((await farm.api(`/agents/${(await agent()).name}/drain`, { method: "POST" })).status, 200);
    assert.equal((await agent()).state, "draining");
    const waiting = await farm.submit({ suite: "one-gib", python, tests: ["test_pause"] });
    assert.equal((await farm.waitFor(running.id, finished)).status, "passed");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const held = await job(waiting.id);
    assert.equal(held.status, "queued");
    assert.match(held.heldReason ?? "", /draining/);
    assert.equal((await farm.api(`/agents/${(await agent()).name}/undrain`, { method: "POST" })).status, 200);
    assert.equal((await farm.waitFor(waiting.id, finished)).status, "passed");
  });
});
