import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SampleBucket } from "../../../coordinator/dashboard/downsample.ts";
import {
  OVERLAY_HEIGHT,
  OVERLAY_WIDTH,
  overlayGeometry,
} from "../../../coordinator/dashboard/overlay-geometry.ts";

const GiB = 1024 ** 3;

/** Buckets of one second from `startMs`, with these highest samples. */
function buckets(startMs: number, maxima: number[]): SampleBucket[] {
  return maxima.map((max, index) => ({
    fromMs: startMs + index * 1000,
    toMs: startMs + (index + 1) * 1000,
    minRssBytes: max,
    maxRssBytes: max,
    minCpuPercent: 0,
    maxCpuPercent: 0,
  }));
}

/** The points of an SVG path of M/L commands. */
function points(path: string): { x: number; y: number }[] {
  return [...path.matchAll(/[ML]([\d.]+),([\d.]+)/g)].map((match) => ({
    x: Number(match[1]),
    y: Number(match[2]),
  }));
}

describe("the compare page's chart", () => {
  it("lays two jobs over each other from their own starts, on a scale that holds both peaks", () => {
    // The base ran an hour earlier for 10 s; the job to check ran 20 s and used twice the memory.
    const geometry = overlayGeometry(
      { jobId: 1, buckets: buckets(0, Array(10).fill(1 * GiB)), peakRssBytes: 1 * GiB },
      { jobId: 2, buckets: buckets(3_600_000, Array(20).fill(2 * GiB)), peakRssBytes: 3 * GiB },
    );
    assert.ok(geometry);
    const base = points(geometry.base.path);
    const head = points(geometry.head.path);
    assert.equal(base.length, 10);
    assert.equal(head.length, 20);
    // Each from its own start: both begin at the left edge; the shorter run ends halfway.
    assert.ok((base[0]?.x ?? 99) < 30 && (head[0]?.x ?? 99) < 30, geometry.base.path);
    assert.ok(Math.abs((base.at(-1)?.x ?? 0) - OVERLAY_WIDTH * 0.475) < 5, geometry.base.path);
    assert.ok((head.at(-1)?.x ?? 0) > OVERLAY_WIDTH * 0.95);
    // The bigger job is higher up (smaller y), and the 3 GiB kernel peak still fits the scale.
    assert.ok((head[0]?.y ?? 0) < (base[0]?.y ?? 0));
    assert.ok(geometry.byteTicks.some((tick) => tick.label === "3 GiB" || tick.label === "2 GiB"));
    assert.ok(geometry.byteTicks.every((tick) => tick.at > 0 && tick.at < OVERLAY_HEIGHT));
    assert.equal(geometry.timeTicks[0]?.label, "0 s");
  });

  it("breaks a line where its job had no samples for a while, and draws nothing without samples", () => {
    const gapped = [...buckets(0, [GiB, GiB]), ...buckets(60_000, [GiB, GiB])];
    const geometry = overlayGeometry(
      { jobId: 1, buckets: gapped, peakRssBytes: GiB },
      { jobId: 2, buckets: [], peakRssBytes: null },
    );
    assert.equal(geometry?.base.path.match(/M/g)?.length, 2, geometry?.base.path);
    assert.equal(geometry?.head.path, "");
    assert.equal(
      overlayGeometry(
        { jobId: 1, buckets: [], peakRssBytes: null },
        { jobId: 2, buckets: [], peakRssBytes: null },
      ),
      null,
    );
  });
});
