import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expectedDurationMs, learnedReservation } from "../../../coordinator/jobs/learned-reservation.ts";

const GiB = 1024 ** 3;
const runs = (peaksGiB: number[], minutes = 10) =>
  peaksGiB.map((peak) => ({ peakRssBytes: peak * GiB, durationMs: minutes * 60_000 }));

describe("learned reservations", () => {
  it("keeps the declared reservation until there is enough history", () => {
    assert.equal(learnedReservation(64 * GiB, runs([10, 10, 10, 10])), null);
  });

  it("lowers the reservation to the high percentile of true peaks plus a margin", () => {
    const learned = learnedReservation(64 * GiB, runs([10, 11, 12, 10, 11, 12, 16]));
    assert.equal(learned, Math.ceil(16 * GiB * 1.25));
  });

  it("never raises the reservation above the declared one", () => {
    assert.equal(learnedReservation(8 * GiB, runs([10, 11, 12, 10, 11])), null);
  });

  it("expects the median past duration, or the time limit without history", () => {
    assert.equal(expectedDurationMs(3600, []), 3_600_000);
    assert.equal(
      expectedDurationMs(3600, [...runs([1], 10), ...runs([1], 20), ...runs([1], 30)]),
      20 * 60_000,
    );
  });
});
