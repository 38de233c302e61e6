import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { jetstreamManager, type StreamInfo } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { JobResource } from "../../protocol/resources.ts";
import { REPORTS_STREAM } from "../../protocol/subjects.ts";
import { type NatsNode, startCluster } from "../helpers/nats-servers.ts";
import { ProcessFarm } from "../helpers/process-farm.ts";
import { findTestPython } from "../helpers/python.ts";
import { assertPassedExactlyOnce } from "./helpers.ts";

const AGENTS = ["left", "right"];

/**
 * The farm on a 3-node JetStream cluster (config files, loopback ports): the coordinator is given
 * all three URLs, so its reports stream keeps 3 replicas, and agents connect to any node. Killing
 * one node mid-job (the stream's leader, or the node an agent talks through) loses nothing: every
 * job passes exactly once, and jobs submitted after the kill run too.
 */
describe("chaos: a 3-node NATS cluster loses a node mid-job", { timeout: 900_000 }, () => {
  let nodes: NatsNode[] = [];
  let farm: ProcessFarm;
  let python: string;
  let observer: NatsConnection;

  before(async () => {
    python = findTestPython();
    farm = new ProcessFarm();
    nodes = await startCluster(join(farm.dir, "nats"));
    farm.natsUrls = nodes.map((node) => node.url);
    // Started with the cluster: the coordinator has to wait for JetStream to elect its leader.
    await farm.startCoordinator();
    for (const name of AGENTS) await farm.startAgent(name);
    observer = await connect({ servers: farm.natsUrls, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  });
  after(async () => {
    await observer?.close();
    await farm?.stop();
    for (const node of nodes) await node.stop();
  });

  async function streamInfo(): Promise<StreamInfo> {
    const jsm = await jetstreamManager(observer, { timeout: 5000 });
    return jsm.streams.info(REPORTS_STREAM);
  }

  /** The stream info once every replica is current: a node that came back has caught up. */
  async function healthyStream(): Promise<StreamInfo> {
    let last = "";
    for (let tries = 0; tries < 120; tries += 1) {
      try {
        const info = await streamInfo();
        const replicas = info.cluster?.replicas ?? [];
        if (
          info.cluster?.leader &&
          replicas.length === 2 &&
          replicas.every((peer) => peer.current && !peer.offline)
        )
          return info;
        last = JSON.stringify(info.cluster);
      } catch (thrown) {
        last = String(thrown);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error(`the reports stream did not get 3 current replicas: ${last}`);
  }

  function nodeNamed(serverName: string): NatsNode {
    const node = nodes.find((candidate) => candidate.name === serverName);
    assert.ok(node, `no node named ${serverName}`);
    return node;
  }

  const running = (id: number) => farm.waitFor(id, (job) => job.status === "running", 90_000);

  /** Two jobs running (one per agent), `victim` killed, a third job submitted after; all pass once. */
  async function killMidJob(pickVictim: (busy: JobResource[]) => Promise<NatsNode>): Promise<void> {
    const before = [await farm.submitNap(python), await farm.submitNap(python)];
    const busy = await Promise.all(before.map((job) => running(job.id)));
    const victim = await pickVictim(busy);
    await victim.kill();
    const afterKill = await farm.submitNap(python);

    for (const job of [...before, afterKill]) {
      const finished = await farm.waitUntilFinished(job.id, 180_000);
      await assertPassedExactlyOnce(farm, finished);
    }
    await victim.start();
    await healthyStream();
  }

  it("the reports stream has 3 replicas, one on each node", async () => {
    const info = await healthyStream();
    assert.equal(info.config.num_replicas, 3);
    const placed = [info.cluster?.leader, ...(info.cluster?.replicas ?? []).map((peer) => peer.name)];
    assert.deepEqual(placed.sort(), ["n1", "n2", "n3"]);
  });

  it("kill -9 the node that leads the reports stream mid-job: every job passes exactly once", async () => {
    await killMidJob(async () => nodeNamed((await healthyStream()).cluster?.leader ?? ""));
  });

  it("kill -9 the node an agent is connected to mid-job: every job passes exactly once", async () => {
    await killMidJob(async (busy) => {
      const agent = busy[0]?.agent ?? AGENTS[0];
      for (const node of nodes) if (await node.hasClient(`memfarm-agent-${agent}`)) return node;
      throw new Error(`agent ${agent} is connected to no node`);
    });
  });
});
