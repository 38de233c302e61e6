import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type PlacementAgent,
  type PlacementInput,
  type PlacementJob,
  type PlacementOutput,
  placeJobs,
} from "../../../coordinator/placement/index.ts";
import { hasLabels } from "../../../coordinator/placement/labels.ts";
import { inQueueOrder } from "../../../coordinator/placement/queue-order.ts";
import { agent, assertKeepsTheRules, HOUR, job, MINUTE, NOW, running, seeded } from "./helpers.ts";

function place(input: PlacementInput, maxReservations?: number): PlacementOutput {
  const output = placeJobs(input, maxReservations === undefined ? {} : { maxReservations });
  assertKeepsTheRules(input, output);
  return output;
}

describe("backfill", () => {
  // Agent "a": 100 GiB, 60 GiB in use until 14:00; the 80 GiB job at the head waits for 14:00.
  const busy = () => agent("a", 100, { running: [running(9, 60, 2 * HOUR)] });

  it("gives the blocked head of the queue a reservation where it starts earliest", () => {
    const out = place({
      nowMs: NOW,
      agents: [busy(), agent("b", 100, { running: [running(8, 60, 3 * HOUR)] })],
      queued: [job(1, 80)],
    });
    assert.deepEqual(out.held[0]?.reservation, { agent: "a", startMs: NOW + 2 * HOUR });
  });

  it("starts a job behind it now if it ends before the reservation", () => {
    const out = place({
      nowMs: NOW,
      agents: [busy()],
      queued: [job(1, 80), job(2, 30, { expectedDurationMs: HOUR })],
    });
    assert.deepEqual(out.placements, [{ jobId: 2, agent: "a" }]);
  });

  it("starts a job behind it now if it fits beside the reserved job for its whole run", () => {
    const out = place({
      nowMs: NOW,
      agents: [busy()],
      queued: [job(1, 80), job(2, 15, { expectedDurationMs: 5 * HOUR })],
    });
    assert.deepEqual(out.placements, [{ jobId: 2, agent: "a" }]);
  });

  it("holds a job behind it that would push the reservation later", () => {
    const out = place({
      nowMs: NOW,
      agents: [busy()],
      // Submitted at NOW, long after job 1: its size credit (0.9 h) cannot take it ahead.
      queued: [job(1, 80), job(2, 30, { expectedDurationMs: 3 * HOUR, submittedMs: NOW })],
    });
    assert.deepEqual(out.placements, []);
    assert.deepEqual(out.held[0]?.reservation, { agent: "a", startMs: NOW + 2 * HOUR });
    // Job 2 goes after job 1 ends (14:00 + 1 h), not before it.
    assert.deepEqual(out.held[1]?.reservation, { agent: "a", startMs: NOW + 3 * HOUR });
  });

  it("reserves for the first blocked job of every priority, however low the bound", () => {
    const out = place(
      {
        nowMs: NOW,
        agents: [agent("a", 100, { running: [running(9, 100, HOUR)] })],
        queued: [
          job(1, 50, { priority: "low" }),
          job(2, 50, { priority: "high" }),
          job(3, 50, { priority: "high" }),
          job(4, 50),
        ],
      },
      0,
    );
    const reserved = out.held.filter((held) => held.reservation).map((held) => held.jobId);
    assert.deepEqual(reserved, [2, 4, 1]);
  });

  it("does not let a stream of small jobs starve the big one (several passes, time advancing)", () => {
    const started = simulateStream(placeJobs);
    assert.ok(started.firstReservation !== null);
    assert.ok(started.latestReservation !== null && started.latestReservation <= started.firstReservation);
    assert.equal(started.big, started.firstReservation, "the big job starts at its first reservation");
    assert.ok(started.smallBeforeBig >= 5, `only ${started.smallBeforeBig} small jobs were backfilled`);

    // Without reservations, the same stream keeps the big job out for the whole 5 hours.
    assert.equal(simulateStream(greedy).big, null);
  });

  it("keeps the rules and its reservations on random farms, whatever the jobs behind do", () => {
    for (let seed = 1; seed <= 300; seed += 1) {
      const input = randomInput(seeded(seed));
      const output = place(input, 8);
      // Jobs behind a job never change what happens to it: the queue cut after any job gives the
      // same placement or reservation for every job up to the cut.
      const order = inQueueOrder(input.queued, (labels) => largestOnline(input, labels));
      const cut = order.slice(0, Math.ceil(order.length / 2));
      const partial = placeJobs({ ...input, queued: cut }, { maxReservations: 8 });
      const fate = (out: PlacementOutput, id: number) =>
        out.placements.find((p) => p.jobId === id)?.agent ??
        JSON.stringify(out.held.find((held) => held.jobId === id)?.reservation);
      for (const queued of cut)
        assert.equal(fate(partial, queued.id), fate(output, queued.id), `seed ${seed}`);
    }
  });
});

function largestOnline(input: PlacementInput, labels: Record<string, string>): number {
  const online = input.agents.filter((each) => each.state === "online" && hasLabels(each.labels, labels));
  return Math.max(0, ...online.map((each) => each.capacityBytes));
}

/** Places only what fits now, in queue order: no reservations (what the old placement did). */
function greedy(input: PlacementInput): PlacementOutput {
  const free = new Map(
    input.agents.map((each) => [
      each.name,
      each.capacityBytes - each.running.reduce((s, r) => s + r.reservationBytes, 0),
    ]),
  );
  const output: PlacementOutput = { placements: [], held: [] };
  for (const queued of input.queued) {
    const target = input.agents.find((each) => (free.get(each.name) ?? 0) >= queued.reservationBytes);
    if (!target) {
      output.held.push({ jobId: queued.id, reason: "full", reservation: null });
      continue;
    }
    free.set(target.name, (free.get(target.name) ?? 0) - queued.reservationBytes);
    output.placements.push({ jobId: queued.id, agent: target.name });
  }
  return output;
}

/**
 * One 100 GiB agent, 90 GiB in use by three jobs ending at 12:30, 13:00 and 13:30. At 12:00 a
 * 90 GiB job arrives; then, every 5 minutes for 5 hours, a 20 GiB job of 20 minutes. A pass runs
 * every 5 minutes; jobs end exactly when expected. Returns when the big job started (null: never),
 * its reservations, and how many small jobs started before it.
 */
function simulateStream(policy: (input: PlacementInput) => PlacementOutput) {
  const runs = [running(101, 30, 30 * MINUTE), running(102, 30, HOUR), running(103, 30, 90 * MINUTE)];
  let queued: PlacementJob[] = [job(1, 90, { expectedDurationMs: 2 * HOUR })];
  const result = {
    big: null as number | null,
    firstReservation: null as number | null,
    latestReservation: null as number | null,
    smallBeforeBig: 0,
  };
  for (let pass = 0, nextId = 2; pass <= 60; pass += 1, nextId += 1) {
    const nowMs = NOW + pass * 5 * MINUTE;
    queued.push(job(nextId, 20, { expectedDurationMs: 20 * MINUTE }));
    const input: PlacementInput = {
      nowMs,
      agents: [agent("a", 100, { running: runs.filter((run) => run.expectedEndMs > nowMs) })],
      queued,
    };
    const output = policy(input);
    if (policy === placeJobs) assertKeepsTheRules(input, output);
    const reservation = output.held.find((held) => held.jobId === 1)?.reservation;
    if (reservation) {
      result.firstReservation ??= reservation.startMs;
      result.latestReservation = Math.max(result.latestReservation ?? 0, reservation.startMs);
    }
    for (const { jobId } of output.placements) {
      const placed = queued.find((each) => each.id === jobId);
      if (!placed) continue;
      runs.push({
        jobId,
        reservationBytes: placed.reservationBytes,
        exclusive: false,
        expectedEndMs: nowMs + placed.expectedDurationMs,
      });
      if (jobId === 1) result.big = nowMs;
      else if (result.big === null) result.smallBeforeBig += 1;
    }
    queued = queued.filter((each) => !output.placements.some((p) => p.jobId === each.id));
  }
  return result;
}

function randomInput(random: () => number): PlacementInput {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const sizes = [16, 32, 64, 128, 256, 512];
  let nextRunning = 1000;
  const agents: PlacementAgent[] = Array.from({ length: 1 + Math.floor(random() * 6) }, (_, index) => {
    const capacity = pick(sizes);
    const runs = [];
    let used = 0;
    let exclusive = false;
    for (let count = Math.floor(random() * 4); count > 0 && !exclusive; count -= 1) {
      const bytes = Math.ceil(random() * capacity * 0.5);
      if (used + bytes > capacity) break;
      exclusive = runs.length === 0 && random() < 0.1;
      used += bytes;
      runs.push(running(nextRunning++, bytes, Math.round((random() * 6 - 0.5) * HOUR), exclusive));
    }
    return agent(`h${index}`, capacity, {
      state: pick(["online", "online", "online", "draining", "lost"] as const),
      labels: random() < 0.3 ? { arch: "aarch64" } : { arch: "x86_64" },
      running: runs,
      blackouts:
        random() < 0.2
          ? [{ fromMinute: Math.floor(random() * 1440), toMinute: Math.floor(random() * 1440) }]
          : [],
    });
  });
  const queued = Array.from({ length: 1 + Math.floor(random() * 30) }, (_, index) =>
    job(index + 1, Math.ceil(random() * 300), {
      priority: pick(["high", "normal", "normal", "low"] as const),
      labels: random() < 0.2 ? { arch: "aarch64" } : {},
      exclusive: random() < 0.1,
      expectedDurationMs: Math.round(random() * 4 * HOUR),
    }),
  );
  return { nowMs: NOW + Math.floor(random() * 24) * HOUR, agents, queued };
}
