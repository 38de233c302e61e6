import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { processExists } from "../../agent/processes/process-tree.ts";
import type { JobResource } from "../../protocol/resources.ts";
import { processesMentioning } from "../helpers/cli.ts";
import { freePort, NatsNode } from "../helpers/nats-servers.ts";
import { ProcessFarm } from "../helpers/process-farm.ts";
import { findTestPython } from "../helpers/python.ts";
import { assertPassedExactlyOnce } from "./helpers.ts";

/** The attempt that ran when the chaos struck is the one that passed: it was never given up. */
function assertSameAttemptPassed(started: JobResource, job: JobResource): void {
  const running = started.attempts.at(-1);
  const passed = job.attempts.find((attempt) => attempt.status === "passed");
  assert.equal(passed?.id, running?.id, JSON.stringify(job.attempts));
  assert.ok(!job.attempts.some((attempt) => attempt.status === "lost"), JSON.stringify(job.attempts));
}

/**
 * Chaos with real processes and real signals: a nats-server, a coordinator process and agent
 * processes, one of them SIGKILLed mid-job. Every job must end in exactly one terminal state,
 * with no result lost and none counted twice.
 */
describe("chaos: processes killed mid-job", { timeout: 600_000 }, () => {
  let nats: NatsNode;
  let farm: ProcessFarm;
  let python: string;

  before(async () => {
    python = findTestPython();
    farm = new ProcessFarm();
    nats = NatsNode.single(join(farm.dir, "nats"), await freePort());
    await nats.start();
    farm.natsUrls = [nats.url];
    await farm.startCoordinator();
  });
  after(async () => {
    await farm?.stop();
    await nats?.stop();
  });

  const running = (id: number) => farm.waitFor(id, (job) => job.status === "running", 60_000);

  it("kill -9 an agent mid-job: the attempt is lost and the job passes on another agent", async () => {
    await farm.startAgent("victim");
    const queued = await farm.submitNap(python);
    const started = await running(queued.id);
    assert.equal(started.agent, "victim");
    await farm.startAgent("survivor");
    await farm.killAgent("victim");

    const job = await farm.waitUntilFinished(queued.id);
    await assertPassedExactlyOnce(farm, job);
    assert.equal(job.agent, "survivor");
    assert.deepEqual(
      job.attempts.map((attempt) => [attempt.agent, attempt.status]),
      [
        ["victim", "lost"],
        ["survivor", "passed"],
      ],
    );
    assert.match(job.attempts[0]?.note ?? "", /victim/);
    // /metrics counts what just happened: one attempt lost with its agent, one retried.
    const metrics = await (await fetch(`${farm.url}/metrics`)).text();
    assert.match(metrics, /^memfarm_attempts_lost_total\{suite="nap"\} 1$/m, metrics);
    assert.match(metrics, /^memfarm_attempts_retried_total\{suite="nap"\} 1$/m);
    await farm.killAgent("survivor");
  });

  it("an agent restarted mid-job: it kills the test left running, the attempt is lost and requeued", async () => {
    await farm.startAgent("phoenix");
    const queued = await farm.submitNap(python);
    await running(queued.id);
    // "running" comes as the attempt starts; the interpreter follows a moment later.
    let orphans: number[] = [];
    for (let tries = 0; orphans.length === 0 && tries < 200; tries += 1) {
      await sleep(100);
      orphans = processesMentioning(farm.napTestsDir);
    }
    assert.ok(orphans.length > 0, "the nap test runs");
    await farm.killAgent("phoenix");
    assert.ok(orphans.some(processExists), "a test outlives its killed agent (its own process group)");
    await farm.startAgent("phoenix"); // same name, same work dir: it comes back without the attempt
    assert.deepEqual(orphans.filter(processExists), [], "the restarted agent killed the leftover test");

    const job = await farm.waitUntilFinished(queued.id);
    await assertPassedExactlyOnce(farm, job);
    assert.deepEqual(
      job.attempts.map((attempt) => attempt.status),
      ["lost", "passed"],
    );
    await farm.killAgent("phoenix");
  });

  it("kill -9 the coordinator mid-job and start it again: the job's result is recorded", async () => {
    await farm.startAgent("steady");
    const queued = await farm.submitNap(python);
    const started = await running(queued.id);
    await farm.killCoordinator();
    await sleep(4_000); // the job goes on, and may end, while no coordinator listens
    await farm.startCoordinator();

    const job = await farm.waitUntilFinished(queued.id);
    await assertPassedExactlyOnce(farm, job);
    assertSameAttemptPassed(started, job);
  });

  it("kill -9 nats-server mid-job and start it again: the job's result is recorded", async () => {
    const queued = await farm.submitNap(python);
    const started = await running(queued.id);
    await nats.kill();
    await sleep(3_000);
    await nats.start();

    const job = await farm.waitUntilFinished(queued.id);
    await assertPassedExactlyOnce(farm, job);
    assertSameAttemptPassed(started, job);
  });
});
