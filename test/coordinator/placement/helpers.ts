import assert from "node:assert/strict";
import { inBlackout } from "../../../coordinator/placement/blackout.ts";
import type {
  PlacementAgent,
  PlacementInput,
  PlacementJob,
  PlacementOutput,
  RunningJob,
} from "../../../coordinator/placement/index.ts";

/** Builders and checks the placement tests share. */

export const GiB = 1024 ** 3;
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** 2026-11-24 12:00 UTC. */
export const NOW = Date.UTC(2026, 10, 24, 12, 0);

export function agent(
  name: string,
  capacityGiB: number,
  extra: Partial<PlacementAgent> = {},
): PlacementAgent {
  return {
    name,
    state: "online",
    capacityBytes: capacityGiB * GiB,
    labels: {},
    running: [],
    blackouts: [],
    ...extra,
  };
}

export function job(id: number, reservationGiB: number, extra: Partial<PlacementJob> = {}): PlacementJob {
  return {
    id,
    // One a minute, in id order, over the day before NOW.
    submittedMs: NOW - DAY + id * MINUTE,
    priority: "normal",
    reservationBytes: reservationGiB * GiB,
    labels: {},
    exclusive: false,
    expectedDurationMs: HOUR,
    ...extra,
  };
}

export function running(
  jobId: number,
  reservationGiB: number,
  endsInMs: number,
  exclusive = false,
): RunningJob {
  return { jobId, reservationBytes: reservationGiB * GiB, exclusive, expectedEndMs: NOW + endsInMs };
}

/**
 * Checks, independently of the placement code, that the output keeps every rule at every moment:
 * on each agent (given one that keeps them to begin with), what runs, what was placed now and what
 * was reserved never exceed its capacity and never share it with an exclusive job; placements go to online agents outside blackout windows
 * that carry the job's labels; every queued job is placed or held, once.
 */
export function assertKeepsTheRules(input: PlacementInput, output: PlacementOutput): void {
  const jobs = new Map(input.queued.map((queued) => [queued.id, queued]));
  const seen = [...output.placements.map((p) => p.jobId), ...output.held.map((h) => h.jobId)];
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    [...jobs.keys()].sort((a, b) => a - b),
  );
  const holds = new Map<string, { start: number; end: number; bytes: number; exclusive: boolean }[]>();
  for (const each of input.agents) {
    holds.set(
      each.name,
      each.running.map((run) => ({
        start: input.nowMs,
        end: run.expectedEndMs > input.nowMs ? run.expectedEndMs : input.nowMs + MINUTE,
        bytes: run.reservationBytes,
        exclusive: run.exclusive,
      })),
    );
  }
  const addHold = (name: string, jobId: number, start: number) => {
    const queued = jobs.get(jobId);
    assert.ok(queued, `job ${jobId} was not queued`);
    const duration = Math.max(1, queued.expectedDurationMs);
    holds
      .get(name)
      ?.push({ start, end: start + duration, bytes: queued.reservationBytes, exclusive: queued.exclusive });
  };
  for (const placement of output.placements) {
    const target = input.agents.find((each) => each.name === placement.agent);
    const queued = jobs.get(placement.jobId);
    assert.ok(target && queued);
    assert.equal(target.state, "online", `job ${queued.id} went to ${target.name}, which is ${target.state}`);
    for (const [key, value] of Object.entries(queued.labels)) assert.equal(target.labels[key], value);
    assert.ok(
      !inBlackout(target.blackouts, input.nowMs),
      `job ${queued.id} starts on ${target.name} in a blackout`,
    );
    addHold(placement.agent, placement.jobId, input.nowMs);
  }
  for (const held of output.held) {
    if (held.reservation) {
      const { agent: name, startMs } = held.reservation;
      assert.ok(startMs > input.nowMs, `job ${held.jobId} is reserved for now, not placed`);
      const target = input.agents.find((each) => each.name === name);
      assert.ok(target?.state === "online" && !inBlackout(target.blackouts, startMs));
      addHold(held.reservation.agent, held.jobId, held.reservation.startMs);
    }
  }
  for (const each of input.agents) {
    const list = holds.get(each.name) ?? [];
    for (const moment of list.map((hold) => hold.start)) {
      const active = list.filter((hold) => hold.start <= moment && moment < hold.end);
      const used = active.reduce((sum, hold) => sum + hold.bytes, 0);
      assert.ok(
        used <= each.capacityBytes,
        `${each.name} is overcommitted at ${new Date(moment).toISOString()}`,
      );
      const shared = active.some((hold) => hold.exclusive) && active.length > 1;
      assert.ok(!shared, `${each.name} shares an exclusive job at ${new Date(moment).toISOString()}`);
    }
  }
}

/** The benchmarks' seeded generator, so random cases are the same on every run. */
export { seededRandom as seeded } from "../../../bench/packing/rng.ts";
