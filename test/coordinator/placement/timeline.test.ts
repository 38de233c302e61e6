import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentTimeline } from "../../../coordinator/placement/timeline.ts";
import { agent, GiB, HOUR, MINUTE, NOW, running } from "./helpers.ts";

describe("an agent's timeline", () => {
  // 100 GiB; 80 GiB busy until 13:00; 80 GiB promised from 13:30 to 15:00: a 30-minute gap.
  const timeline = () => {
    const line = new AgentTimeline(agent("a", 100, { running: [running(9, 80, HOUR)] }), NOW);
    line.add({
      jobId: 1,
      startMs: NOW + 90 * MINUTE,
      endMs: NOW + 3 * HOUR,
      bytes: 80 * GiB,
      exclusive: false,
    });
    return line;
  };

  it("finds the earliest gap long enough for the job, and skips those that are too short", () => {
    assert.equal(timeline().earliestStart(20 * MINUTE, 50 * GiB, false), NOW + HOUR);
    assert.equal(timeline().earliestStart(HOUR, 50 * GiB, false), NOW + 3 * HOUR);
    // Small enough to run beside everything: now.
    assert.equal(timeline().earliestStart(10 * HOUR, 20 * GiB, false), NOW);
    assert.equal(timeline().earliestStart(HOUR, 101 * GiB, false), Number.POSITIVE_INFINITY);
  });

  it("checks a job against what is promised later, not only what runs now", () => {
    const line = timeline();
    assert.equal(line.freeNowBytes, 20 * GiB);
    assert.equal(line.fitsFrom(NOW, 2 * HOUR, 20 * GiB, false), true);
    assert.equal(line.fitsFrom(NOW + HOUR, 20 * MINUTE, 50 * GiB, false), true);
    assert.equal(line.fitsFrom(NOW + HOUR, 31 * MINUTE, 50 * GiB, false), false);
    assert.equal(line.firstReservationIn(NOW, NOW + 2 * HOUR)?.jobId, 1);
  });

  it("gives an exclusive job only a stretch with nothing at all", () => {
    assert.equal(timeline().earliestStart(30 * MINUTE, GiB, true), NOW + HOUR);
    assert.equal(timeline().earliestStart(31 * MINUTE, GiB, true), NOW + 3 * HOUR);
  });

  it("keeps its steps right as holds are added after a question (no rebuild)", () => {
    const line = timeline();
    assert.equal(line.earliestStart(20 * MINUTE, 50 * GiB, false), NOW + HOUR);
    line.add({ jobId: 2, startMs: NOW + HOUR, endMs: NOW + 80 * MINUTE, bytes: 60 * GiB, exclusive: false });
    assert.equal(line.earliestStart(20 * MINUTE, 50 * GiB, false), NOW + 3 * HOUR);
    assert.equal(line.earliestStart(10 * MINUTE, 50 * GiB, false), NOW + 80 * MINUTE);
  });
});
