import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inBlackout, nextStartAllowed } from "../../../coordinator/placement/blackout.ts";
import { placeJobs } from "../../../coordinator/placement/index.ts";
import { agent, assertKeepsTheRules, HOUR, job, MINUTE } from "./helpers.ts";

const at = (day: number, hour: number, minute = 0) => Date.UTC(2026, 10, day, hour, minute);
/** CPython's bigmem host shares its machine with benchmarks: no new builds 22:00–08:00 UTC. */
const NIGHT = { fromMinute: 22 * 60, toMinute: 8 * 60 };

describe("blackout windows", () => {
  it("wrap midnight", () => {
    assert.equal(inBlackout([NIGHT], at(24, 23)), true);
    assert.equal(inBlackout([NIGHT], at(24, 22)), true);
    assert.equal(inBlackout([NIGHT], at(25, 7, 59)), true);
    assert.equal(inBlackout([NIGHT], at(25, 8)), false);
    assert.equal(inBlackout([NIGHT], at(24, 12)), false);
    assert.equal(inBlackout([NIGHT], at(24, 21, 59)), false);
    assert.equal(inBlackout([{ fromMinute: 9 * 60, toMinute: 17 * 60 }], at(24, 12)), true);
    assert.equal(inBlackout([{ fromMinute: 600, toMinute: 600 }], at(24, 10)), false);
  });

  it("say when the next job may start, across windows that run into each other", () => {
    assert.equal(nextStartAllowed([NIGHT], at(24, 23)), at(25, 8));
    assert.equal(nextStartAllowed([NIGHT], at(25, 3)), at(25, 8));
    assert.equal(nextStartAllowed([NIGHT], at(25, 12)), at(25, 12));
    const chained = [
      { fromMinute: 1 * 60, toMinute: 8 * 60 },
      { fromMinute: 22 * 60, toMinute: 2 * 60 },
    ];
    assert.equal(nextStartAllowed(chained, at(24, 23)), at(25, 8));
    const allDay = [
      { fromMinute: 0, toMinute: 12 * 60 },
      { fromMinute: 12 * 60, toMinute: 24 * 60 },
    ];
    assert.equal(nextStartAllowed(allDay, at(24, 5)), Number.POSITIVE_INFINITY);
  });

  it("hold new starts on an agent in its window, but the job starts on another one that fits", () => {
    const nowMs = at(24, 23);
    const input = {
      nowMs,
      // "bench" is the tighter fit, but it is night there.
      agents: [agent("bench", 500, { blackouts: [NIGHT] }), agent("other", 1000)],
      queued: [job(1, 300)],
    };
    const out = placeJobs(input);
    assertKeepsTheRules(input, out);
    assert.deepEqual(out.placements, [{ jobId: 1, agent: "other" }]);
  });

  it("reserve the end of the window when no other agent fits, and say so", () => {
    const nowMs = at(24, 23);
    const input = {
      nowMs,
      agents: [agent("bench", 500, { blackouts: [NIGHT] }), agent("small", 128)],
      queued: [job(1, 300, { expectedDurationMs: 2 * HOUR }), job(2, 64)],
    };
    const out = placeJobs(input);
    assertKeepsTheRules(input, out);
    assert.deepEqual(out.placements, [{ jobId: 2, agent: "small" }]);
    assert.deepEqual(out.held, [
      {
        jobId: 1,
        reason:
          "in a blackout window until 08:00 UTC on bench (reserved on bench, expected to start at 08:00 UTC)",
        reservation: { agent: "bench", startMs: at(25, 8) },
      },
    ]);
  });

  it("let running jobs go on, and put a reservation behind them outside the window", () => {
    const nowMs = at(24, 20);
    const input = {
      nowMs,
      // Memory frees at 21:00, but no job may start between 22:00 and 08:00, and a 90-minute job
      // started at 21:00 would end after 22:00: that is fine, only starts are held.
      agents: [
        agent("bench", 500, {
          blackouts: [NIGHT],
          running: [
            { jobId: 9, reservationBytes: 400 * 1024 ** 3, exclusive: false, expectedEndMs: at(24, 21) },
          ],
        }),
      ],
      queued: [job(1, 300, { expectedDurationMs: 90 * MINUTE })],
    };
    const out = placeJobs(input);
    assertKeepsTheRules(input, out);
    assert.deepEqual(out.held[0]?.reservation, { agent: "bench", startMs: at(24, 21) });

    // Freed only at 23:00: the job waits for the window's end.
    const late = structuredClone(input);
    const first = late.agents[0]?.running[0];
    if (first) first.expectedEndMs = at(24, 23);
    assert.deepEqual(placeJobs(late).held[0]?.reservation, { agent: "bench", startMs: at(25, 8) });
  });
});
