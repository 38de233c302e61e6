import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { processExists } from "../../agent/processes/process-tree.ts";
import { assertPassedExactlyOnce } from "../chaos/helpers.ts";
import { ProcessFarm } from "../helpers/process-farm.ts";
import { findTestPython } from "../helpers/python.ts";
import { until } from "../helpers/until.ts";

/**
 * A coordinator with its own (embedded) nats-server, restarted, and its nats-server killed: the
 * agent started from the printed join line keeps finding the farm, and the job it runs meanwhile
 * ends passed, once, with its whole log.
 */
describe("faults: the coordinator's embedded nats-server", { timeout: 240_000 }, () => {
  const farm = new ProcessFarm(6);
  let python: string;
  const agentOnline = async () => {
    const agents = (await farm.api("/agents")).body.agents as { name: string; state: string }[];
    return agents.some((agent) => agent.name === farm.join?.name && agent.state === "online");
  };

  before(async () => {
    python = findTestPython();
    await farm.startCoordinator([], { embeddedNats: true });
    const join = farm.join;
    assert.ok(join, "the coordinator printed how an agent on this machine joins");
    await farm.startAgent(join.name, join.creds);
  });
  after(() => farm.stop());

  it("keeps its NATS URL across a restart of the coordinator; the agent comes back and its job passes", async () => {
    const printed = farm.join?.nats;
    const job = await farm.submitNap(python);
    await farm.waitFor(job.id, (one) => one.status === "running");
    await farm.killCoordinator();
    await farm.startCoordinator([], { embeddedNats: true });
    assert.equal(farm.join?.nats, printed, "the same URL as the join line printed before");
    await until(agentOnline, "the agent is online again", 10_000);
    const done = await farm.waitUntilFinished(job.id);
    await assertPassedExactlyOnce(farm, done);
  });

  it("starts its nats-server again when it is killed, on the same port and store, and /healthz says so", async () => {
    const dataDir = join(farm.dataDir, "nats");
    const pid = Number(readFileSync(join(dataDir, "nats-server.pid"), "utf8"));
    const job = await farm.submitNap(python);
    await farm.waitFor(job.id, (one) => one.status === "running");
    process.kill(pid, "SIGKILL");
    await until(async () => !processExists(pid), "the old nats-server is gone", 5_000);
    await until(
      async () => {
        const now = Number(readFileSync(join(dataDir, "nats-server.pid"), "utf8"));
        return now !== pid && processExists(now);
      },
      "a new nats-server runs",
      15_000,
    );
    await until(
      async () => {
        const health = await fetch(`${farm.url}/healthz`);
        const body = (await health.json()) as { checks?: { nats?: { detail?: string } } };
        return health.status === 200 && /restarted 1 times?/.test(body.checks?.nats?.detail ?? "");
      },
      "/healthz is 200 again and tells of the restart",
      15_000,
    );
    await until(agentOnline, "the agent is online again", 15_000);
    const done = await farm.waitUntilFinished(job.id);
    await assertPassedExactlyOnce(farm, done);
  });
});
