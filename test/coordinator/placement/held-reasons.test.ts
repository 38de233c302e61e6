import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type PlacementAgent, placeJobs, whyNeverRunnable } from "../../../coordinator/placement/index.ts";
import { agent, HOUR, job, NOW, running } from "./helpers.ts";

function reasons(agents: PlacementAgent[], queued = [job(1, 10)]): string[] {
  return placeJobs({ nowMs: NOW, agents, queued }).held.map((held) => held.reason);
}

describe("why a job waits", () => {
  it("no agent has joined", () => {
    assert.deepEqual(reasons([]), ["no agent has joined the farm yet"]);
  });

  it("no agent has the labels", () => {
    assert.deepEqual(
      reasons(
        [agent("a", 100, { labels: { arch: "x86_64" } })],
        [job(1, 10, { labels: { arch: "aarch64" } })],
      ),
      ["no agent has the labels arch=aarch64"],
    );
  });

  it("the largest matching host is too small", () => {
    const agents = [
      agent("a", 238, { labels: { arch: "aarch64" } }),
      agent("b", 1000, { labels: { arch: "x86_64" } }),
    ];
    assert.deepEqual(reasons(agents, [job(1, 300, { labels: { arch: "aarch64" } })]), [
      "needs 300.0 GiB but the largest host with arch=aarch64 offers 238.0 GiB",
    ]);
    assert.deepEqual(reasons([agent("a", 100)], [job(1, 300)]), [
      "needs 300.0 GiB but the largest host offers 100.0 GiB",
    ]);
  });

  it("every matching agent is draining or lost, or only those are large enough", () => {
    assert.deepEqual(reasons([agent("a", 100, { state: "draining" }), agent("b", 100, { state: "lost" })]), [
      "every agent is draining or lost",
    ]);
    assert.deepEqual(reasons([agent("a", 500, { state: "draining" }), agent("b", 100)], [job(1, 300)]), [
      "needs 300.0 GiB; the online hosts offer at most 100.0 GiB and the larger ones are draining or lost",
    ]);
  });

  it("waiting for free memory, with where and when it is expected to start", () => {
    const out = placeJobs({
      nowMs: NOW,
      agents: [agent("a", 100, { running: [running(9, 95, 2 * HOUR + 5 * 60_000)] }), agent("b", 20)],
      queued: [job(1, 40)],
    });
    assert.deepEqual(out.held, [
      {
        jobId: 1,
        reason: "waiting for 40.0 GiB of free memory (reserved on a, expected to start at 14:05 UTC)",
        reservation: { agent: "a", startMs: NOW + 2 * HOUR + 5 * 60_000 },
      },
    ]);
  });

  it("waiting behind the reservation of a job ahead of it", () => {
    const out = placeJobs({
      nowMs: NOW,
      agents: [agent("a", 100, { running: [running(9, 50, HOUR)] })],
      queued: [
        job(1, 90, { priority: "high" }),
        job(2, 30, { expectedDurationMs: 3 * HOUR }),
        job(3, 30, { priority: "high", expectedDurationMs: 3 * HOUR }),
      ],
    });
    assert.deepEqual(
      out.held.map((held) => held.reason),
      [
        "waiting for 90.0 GiB of free memory (reserved on a, expected to start at 13:00 UTC)",
        // Job 3 is high priority too, so it is next; job 2 (normal) comes after it.
        "waiting behind an earlier-queued job's reservation (job 1 on a from 13:00 UTC) (reserved on a, expected to start at 14:00 UTC)",
        "waiting behind a higher-priority job's reservation (job 1 on a from 13:00 UTC) (reserved on a, expected to start at 14:00 UTC)",
      ],
    );
  });

  it("says when it has not reserved yet, past the bounded number of reservations", () => {
    const out = placeJobs(
      {
        nowMs: NOW,
        agents: [agent("a", 100, { running: [running(9, 95, HOUR)] })],
        queued: [job(1, 40), job(2, 40)],
      },
      { maxReservations: 1 },
    );
    assert.equal(out.held[0]?.reservation?.agent, "a");
    assert.equal(out.held[1]?.reservation, null);
    assert.equal(
      out.held[1]?.reason,
      "waiting for 40.0 GiB of free memory; the most free on a matching host is 5.0 GiB (not reserved yet: 1 jobs ahead of it hold reservations)",
    );
  });
});

describe("whyNeverRunnable", () => {
  const arm = { arch: "aarch64" };
  it("says why no registered agent could ever run the job", () => {
    assert.equal(whyNeverRunnable(job(1, 10), []), "no agent has joined the farm yet");
    assert.equal(
      whyNeverRunnable(job(1, 300, { labels: arm }), [
        agent("a", 238, { labels: arm }),
        agent("x", 1000, { labels: { arch: "x86_64" } }),
      ]),
      "needs 300.0 GiB but the largest host with arch=aarch64 offers 238.0 GiB",
    );
    assert.equal(
      whyNeverRunnable(job(1, 10, { labels: arm }), [agent("x", 100)]),
      "no agent has the labels arch=aarch64",
    );
    assert.equal(
      whyNeverRunnable(job(1, 10, { labels: arm }), [
        agent("a", 100, { labels: arm, state: "lost" }),
        agent("x", 100),
      ]),
      "every agent with arch=aarch64 is lost",
    );
    assert.equal(
      whyNeverRunnable(job(1, 10), [agent("a", 100, { state: "lost" })]),
      "all 1 agents that joined the farm are lost",
    );
  });

  it("accepts a job that a busy, draining or blacked-out agent could run later", () => {
    const agents = [
      agent("busy", 500, { running: [running(9, 500, HOUR, true)] }),
      agent("draining", 1000, { state: "draining" }),
    ];
    assert.equal(whyNeverRunnable(job(1, 400), agents), null);
    assert.equal(whyNeverRunnable(job(2, 900, { exclusive: true }), agents), null);
    assert.equal(
      whyNeverRunnable(job(3, 1001), agents),
      "needs 1001.0 GiB but the largest host offers 1000.0 GiB",
    );
  });
});
