import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TREND_HEIGHT, trendGeometry } from "../../../coordinator/dashboard/trend-geometry.ts";
import type { WatchRunResource } from "../../../protocol/resources.ts";

const MiB = 1024 * 1024;
const run = (jobId: number, peak: number | null): WatchRunResource => ({
  jobId,
  commit: String(jobId).repeat(40).slice(0, 40),
  commitTime: null,
  seenAt: null,
  status: "passed",
  outcome: "passed",
  peakRssBytes: peak,
  durationSeconds: 1,
});

describe("a test's peak-memory trend over a watch's runs", () => {
  it("draws a step up where the peak grew, oldest run on the left, and skips runs without a peak", () => {
    // Newest first, as the history answers.
    const runs = [run(5, 260 * MiB), run(4, 260 * MiB), run(3, null), run(2, 200 * MiB), run(1, 200 * MiB)];
    const { points, path, minBytes, maxBytes } = trendGeometry(runs);
    assert.deepEqual(
      points.map((point) => point.jobId),
      [1, 2, 4, 5],
    );
    assert.deepEqual([minBytes, maxBytes], [200 * MiB, 260 * MiB]);
    const [a, b, c, d] = points;
    assert.ok(a && b && c && d);
    assert.equal(a.y, b.y, "unchanged code, the same height");
    assert.ok(c.y < b.y - TREND_HEIGHT / 2, `the 30 % step is most of the chart's height (${b.y} → ${c.y})`);
    assert.match(path, new RegExp(`^M${a.x},${a.y} H${b.x} V${b.y} H${c.x} V${c.y}`));
  });

  it("draws nothing without a measured run, and a flat line for equal peaks", () => {
    assert.deepEqual(trendGeometry([run(1, null)]).points, []);
    const flat = trendGeometry([run(2, 100 * MiB), run(1, 100 * MiB)]).points;
    assert.equal(flat[0]?.y, flat[1]?.y);
  });
});
