import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { placeJobs } from "../../coordinator/placement.ts";
import type { AgentCapacity } from "../../coordinator/store/agents-store.ts";
import type { QueuedJob } from "../../coordinator/store/jobs-store.ts";

const GiB = 1024 ** 3;
const agent = (name: string, capacityGiB: number, extra: Partial<AgentCapacity> = {}): AgentCapacity => ({
  name,
  state: "online",
  capacityBytes: capacityGiB * GiB,
  labels: {},
  ...extra,
});
const job = (id: number, reservationGiB: number, labels: Record<string, string> = {}): QueuedJob => ({
  id,
  priority: "normal",
  reservationBytes: reservationGiB * GiB,
  labels,
  heldReason: null,
});

describe("placement", () => {
  it("never reserves more than a host's capacity", () => {
    const { placements, held } = placeJobs({
      queued: [job(1, 10), job(2, 10), job(3, 10)],
      agents: [agent("a", 25)],
      reserved: new Map(),
    });
    assert.deepEqual(placements, [
      { jobId: 1, agent: "a" },
      { jobId: 2, agent: "a" },
    ]);
    assert.equal(held[0]?.jobId, 3);
    assert.match(held[0]?.reason ?? "", /waiting for 10\.0 GiB/);
  });

  it("puts a job on the tightest host that fits, keeping the big one free", () => {
    const { placements } = placeJobs({
      queued: [job(1, 20)],
      agents: [agent("big", 400), agent("small", 24)],
      reserved: new Map(),
    });
    assert.deepEqual(placements, [{ jobId: 1, agent: "small" }]);
  });

  it("says why a job waits: too big for every host, labels, no agents", () => {
    const out = placeJobs({
      queued: [job(1, 500), job(2, 1, { arch: "aarch64" })],
      agents: [agent("a", 100, { labels: { arch: "x86_64" } })],
      reserved: new Map(),
    });
    assert.match(
      out.held[0]?.reason ?? "",
      /needs 500\.0 GiB but the largest matching host offers 100\.0 GiB/,
    );
    assert.match(out.held[1]?.reason ?? "", /no agent has the labels arch=aarch64/);
    assert.match(
      placeJobs({ queued: [job(1, 1)], agents: [], reserved: new Map() }).held[0]?.reason ?? "",
      /no agent/,
    );
  });

  it("gives nothing to draining or lost agents", () => {
    const out = placeJobs({
      queued: [job(1, 1)],
      agents: [agent("a", 10, { state: "draining" }), agent("b", 10, { state: "lost" })],
      reserved: new Map(),
    });
    assert.equal(out.placements.length, 0);
    assert.match(out.held[0]?.reason ?? "", /draining or lost/);
  });
});
