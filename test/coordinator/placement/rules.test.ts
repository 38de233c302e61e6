import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type PlacementInput, placeJobs } from "../../../coordinator/placement/index.ts";
import { agent, assertKeepsTheRules, GiB, HOUR, job, MINUTE, NOW, running } from "./helpers.ts";

function place(input: Omit<PlacementInput, "nowMs">) {
  const full = { nowMs: NOW, ...input };
  const output = placeJobs(full);
  assertKeepsTheRules(full, output);
  return output;
}

describe("placement rules", () => {
  it("never reserves more than a host's capacity, counting what already runs", () => {
    const out = place({ agents: [agent("a", 25)], queued: [job(1, 10), job(2, 10), job(3, 10)] });
    assert.deepEqual(out.placements, [
      { jobId: 1, agent: "a" },
      { jobId: 2, agent: "a" },
    ]);
    assert.deepEqual(
      out.held.map((held) => held.jobId),
      [3],
    );

    const busy = place({
      agents: [agent("a", 25, { running: [running(9, 20, HOUR)] })],
      queued: [job(1, 10)],
    });
    assert.deepEqual(busy.placements, []);
  });

  it("keeps counting a job that runs past its expected end", () => {
    const out = place({
      agents: [agent("a", 25, { running: [running(9, 20, -HOUR)] })],
      queued: [job(1, 10)],
    });
    assert.deepEqual(out.placements, []);
    assert.equal(out.held[0]?.reservation?.startMs, NOW + MINUTE);
  });

  it("puts a job where the least memory is left (best fit), keeping big hosts free", () => {
    const out = place({ agents: [agent("big", 400), agent("small", 24)], queued: [job(1, 20)] });
    assert.deepEqual(out.placements, [{ jobId: 1, agent: "small" }]);

    // Best fit counts free memory now, not capacity.
    const used = place({
      agents: [agent("big", 400, { running: [running(9, 390, HOUR)] }), agent("small", 24)],
      queued: [job(1, 8)],
    });
    assert.deepEqual(used.placements, [{ jobId: 1, agent: "big" }]);
  });

  it("breaks ties by name, whatever the order agents and jobs come in", () => {
    const agents = [agent("c", 64), agent("a", 64), agent("b", 64)];
    const queued = [job(3, 40), job(1, 40), job(2, 40)];
    const out = place({ agents, queued });
    assert.deepEqual(out.placements, [
      { jobId: 1, agent: "a" },
      { jobId: 2, agent: "b" },
      { jobId: 3, agent: "c" },
    ]);
    assert.deepEqual(place({ agents: [...agents].reverse(), queued: [...queued].reverse() }), out);
  });

  it("places a job only on agents that carry all its labels", () => {
    const agents = [
      agent("x86", 32, { labels: { arch: "x86_64" } }),
      agent("arm", 500, { labels: { arch: "aarch64", pool: "bigmem" } }),
    ];
    const out = place({
      agents,
      queued: [
        job(1, 8, { labels: { arch: "aarch64" } }),
        job(2, 8, { labels: { arch: "aarch64", pool: "x" } }),
      ],
    });
    assert.deepEqual(out.placements, [{ jobId: 1, agent: "arm" }]);
    assert.match(out.held[0]?.reason ?? "", /no agent has the labels arch=aarch64, pool=x/);
  });

  it("gives nothing to draining or lost agents", () => {
    const out = place({
      agents: [agent("a", 10, { state: "draining" }), agent("b", 10, { state: "lost" }), agent("c", 100)],
      queued: [job(1, 1), job(2, 1)],
    });
    assert.deepEqual(
      out.placements.map((p) => p.agent),
      ["c", "c"],
    );
  });

  it("runs an exclusive job alone, on an agent with nothing running", () => {
    const out = place({
      agents: [agent("busy", 64, { running: [running(9, 2, HOUR)] }), agent("empty", 500)],
      queued: [job(1, 8, { exclusive: true }), job(2, 8), job(3, 8, { exclusive: true })],
    });
    // Job 2 may not join job 1 on "empty", and job 3 needs an empty host: "busy" has job 9.
    assert.deepEqual(out.placements, [
      { jobId: 1, agent: "empty" },
      { jobId: 2, agent: "busy" },
    ]);
    assert.match(out.held[0]?.reason ?? "", /nothing running/);
  });

  it("starts nothing beside a running exclusive job", () => {
    const out = place({
      agents: [agent("a", 500, { running: [running(9, 8, HOUR, true)] })],
      queued: [job(1, 1)],
    });
    assert.deepEqual(out.placements, []);
    assert.equal(out.held[0]?.reservation?.startMs, NOW + HOUR);
  });

  it("takes high, then normal, then low priority, first come first served within one", () => {
    const out = place({
      agents: [agent("a", 20)],
      queued: [
        job(1, 10, { priority: "low" }),
        job(2, 10),
        job(3, 10, { priority: "high" }),
        job(4, 10, { priority: "high" }),
      ],
    });
    assert.deepEqual(
      out.placements.map((p) => p.jobId),
      [3, 4],
    );
    assert.deepEqual(
      out.held.map((held) => held.jobId),
      [2, 1],
    );
  });

  it("starts the bigger of two jobs submitted together first (they pack tighter that way)", () => {
    const out = place({
      agents: [agent("a", 100)],
      queued: [
        job(1, 20, { submittedMs: NOW - HOUR }),
        job(2, 90, { submittedMs: NOW - HOUR, expectedDurationMs: 2 * HOUR }),
      ],
    });
    assert.deepEqual(out.placements, [{ jobId: 2, agent: "a" }]);
    assert.equal(out.held[0]?.reservation?.startMs, NOW + 2 * HOUR);
  });

  it("keeps first come first served when the bigger job came later than its size credit", () => {
    // Job 2 would fill the host for 1.8 h; it came 3 h after job 1, so it waits behind it.
    const out = place({
      agents: [agent("a", 100)],
      queued: [
        job(1, 20, { submittedMs: NOW - 4 * HOUR }),
        job(2, 90, { submittedMs: NOW - HOUR, expectedDurationMs: 2 * HOUR }),
      ],
    });
    assert.deepEqual(out.placements, [{ jobId: 1, agent: "a" }]);
    assert.equal(out.held[0]?.reservation?.startMs, NOW + HOUR);
  });

  it("fills several agents in one pass, each up to its capacity", () => {
    const agents = Array.from({ length: 5 }, (_, index) => agent(`h${index}`, 100));
    const queued = Array.from({ length: 60 }, (_, index) => job(index + 1, 10 + (index % 4) * 5));
    const out = place({ agents, queued });
    const used = new Map<string, number>();
    for (const { jobId, agent: name } of out.placements) {
      used.set(name, (used.get(name) ?? 0) + (queued[jobId - 1]?.reservationBytes ?? 0));
    }
    for (const bytes of used.values()) assert.ok(bytes <= 100 * GiB);
    assert.ok(out.placements.length >= 20);
  });
});
