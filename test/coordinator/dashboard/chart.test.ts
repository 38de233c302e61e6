import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { byteTicks, elapsed, timeTicks } from "../../../coordinator/dashboard/chart-axes.ts";
import { chartData } from "../../../coordinator/dashboard/chart-data.ts";
import {
  chartGeometry,
  mergeCloseLevels,
  splitAtGaps,
} from "../../../coordinator/dashboard/chart-geometry.ts";
import { boxOf, labelBoundaries, overlaps } from "../../../coordinator/dashboard/chart-labels.ts";
import { downsample } from "../../../coordinator/dashboard/downsample.ts";
import type { Sample } from "../../../protocol/messages.ts";
import type { JobResource, TestResource } from "../../../protocol/resources.ts";

const MiB = 1024 * 1024;
const START = Date.parse("2026-01-01T00:00:00Z");

/** Six hours sampled every 250 ms at 100 MiB, with one 100 ms spike to 5 GiB in the middle. */
function longRunWithSpike(): Sample[] {
  const samples: Sample[] = [];
  for (let at = START; at < START + 6 * 3600_000; at += 250) {
    samples.push({ at, rssBytes: 100 * MiB, cpuPercent: 50, processes: 2 });
  }
  const middle = Math.floor(samples.length / 2);
  samples.splice(middle, 0, {
    at: (samples[middle]?.at ?? 0) - 100,
    rssBytes: 5120 * MiB,
    cpuPercent: 400,
    processes: 9,
  });
  return samples;
}

describe("downsampling keeps spikes", () => {
  it("keeps a 100 ms spike of a six-hour run at any number of buckets", () => {
    const samples = longRunWithSpike();
    for (const buckets of [1, 7, 300, 2000]) {
      const result = downsample(samples, buckets);
      assert.ok(result.length <= buckets, `${result.length} buckets for ${buckets}`);
      assert.equal(Math.max(...result.map((bucket) => bucket.maxRssBytes)), 5120 * MiB, `${buckets} buckets`);
      assert.equal(Math.max(...result.map((bucket) => bucket.maxCpuPercent)), 400);
      assert.equal(Math.min(...result.map((bucket) => bucket.minRssBytes)), 100 * MiB);
    }
  });

  it("keeps every sample when there are fewer samples than buckets, and leaves gaps empty", () => {
    const samples: Sample[] = [0, 1000, 9000].map((offset, index) => ({
      at: START + offset,
      rssBytes: (index + 1) * MiB,
      cpuPercent: 1,
      processes: 1,
    }));
    const result = downsample(samples, 9);
    assert.deepEqual(
      result.map((bucket) => bucket.maxRssBytes),
      [1, 2, 3].map((n) => n * MiB),
    );
    assert.equal(result.at(-1)?.toMs, START + 9000, "the last sample lies in the last bucket");
    assert.deepEqual(downsample([], 10), []);
  });
});

function job(overrides: Partial<JobResource> = {}): JobResource {
  return {
    id: 7,
    status: "passed",
    memlimitBytes: 2048 * MiB,
    reservationBytes: 3072 * MiB,
    limitBytes: 3072 * MiB,
    peakRssBytes: 600 * MiB,
    ...overrides,
  } as JobResource;
}

const test = (name: string, startOffsetMs: number): TestResource => ({
  name,
  kind: "file",
  outcome: "passed",
  attemptId: "7-1",
  startedAt: new Date(START + startOffsetMs).toISOString(),
  durationSeconds: 1,
  peakRssBytes: null,
  peakMeasuredBy: null,
  detail: null,
});

describe("the memory chart", () => {
  const samples: Sample[] = [0, 1000, 2000, 3000, 4000].map((offset) => ({
    at: START + offset,
    rssBytes: offset === 2000 ? 500 * MiB : 100 * MiB,
    cpuPercent: 20,
    processes: 1,
  }));

  it("draws the limits, test starts and the kernel's peak at the highest sample", () => {
    const data = chartData(job(), samples, [test("test_a", 0), test("test_b", 2000), test("case", 1000)]);
    assert.deepEqual(data.sampledPeak, { atMs: START + 2000, rssBytes: 500 * MiB });
    const geometry = chartGeometry(data);
    assert.ok(geometry);
    assert.deepEqual(
      geometry.levels.map((level) => level.label),
      ["reservation 3.0 GiB · enforced limit 3.0 GiB", "memlimit (-M) 2.0 GiB"],
      "equal limits share one line and label",
    );
    assert.deepEqual(
      geometry.boundaries.map((boundary) => [boundary.name, boundary.x]),
      [
        ["test_a", 0],
        ["case", 225],
        ["test_b", 450],
      ],
    );
    assert.equal(geometry.peak?.label, "peak 600.0 MiB", "the kernel's peak, which no sample saw");
    assert.equal(geometry.peak?.x, 450);
    const memlimit = geometry.levels.find((level) => level.kind === "memlimit");
    assert.ok(geometry.peak && memlimit && geometry.peak.y > memlimit.y, "600 MiB is drawn below 2 GiB");
  });

  it("puts memory ticks on power-of-two steps and time ticks on round steps", () => {
    const GiB = 1024 * MiB;
    assert.deepEqual(
      byteTicks(3.15 * GiB, (bytes) => bytes).map((tick) => tick.label),
      ["1 GiB", "2 GiB", "3 GiB"],
    );
    assert.deepEqual(
      byteTicks(600 * MiB, (bytes) => bytes).map((tick) => tick.label),
      ["128 MiB", "256 MiB", "384 MiB", "512 MiB"],
    );
    assert.deepEqual(
      timeTicks(65_000, (ms) => ms / 1000).map((tick) => [tick.at, tick.label]),
      [
        [0, "0 s"],
        [10, "10 s"],
        [20, "20 s"],
        [30, "30 s"],
        [40, "40 s"],
        [50, "50 s"],
        [60, "1 min"],
      ],
    );
    assert.equal(timeTicks(6 * 3600_000, (ms) => ms).length, 7, "every hour of six");
    assert.deepEqual([elapsed(90), elapsed(5400), elapsed(7200)], ["1 min 30 s", "1 h 30 min", "2 h"]);
    const geometry = chartGeometry(chartData(job(), samples, []));
    assert.ok(geometry);
    assert.deepEqual(
      geometry.yTicks.map((tick) => tick.label),
      ["1 GiB", "2 GiB", "3 GiB"],
      "up to the highest limit, 3 GiB",
    );
    assert.equal(geometry.xTicks[0]?.at, 0);
    assert.ok(geometry.viewHeight > geometry.height, "room for the time axis under the plot");
  });

  it("leaves a gap where no samples came (an agent lost, a job moved), and joins an ordinary pause", () => {
    const at = (seconds: number[]) =>
      seconds.map((offset) => ({
        at: START + offset * 1000,
        rssBytes: 100 * MiB,
        cpuPercent: 50,
        processes: 1,
      }));
    // One sample a second, then 40 s without any (the first attempt's host was lost), then more.
    const samples = at([0, 1, 2, 3, 4, 5, 45, 46, 47, 48, 49, 50]);
    const buckets = downsample(samples, 50);
    assert.deepEqual(
      splitAtGaps(buckets).map((run) => run.length),
      [6, 5],
      "the last two samples share the last bucket",
    );
    const geometry = chartGeometry(chartData(job(), samples, []));
    assert.ok(geometry);
    assert.equal(geometry.segments.length, 2, "two lines, not one drawn across the gap");
    assert.equal(geometry.gaps.length, 1);
    assert.ok((geometry.gaps[0]?.seconds ?? 0) >= 35, `${geometry.gaps[0]?.seconds}`);
    assert.equal(splitAtGaps(downsample(at([0, 1, 4, 5, 6]), 300)).length, 1, "a 3 s pause is no gap");
  });

  it("names each test start by its short name where the label does not overprint the one before", () => {
    const labels = labelBoundaries(
      [
        { x: 0, name: "test_bigmem" },
        { x: 30, name: "test.test_bigmem.StrTest.test_capitalize" },
        { x: 100, name: "test.test_bigmem.StrTest.test_center" },
        { x: 880, name: "test.test_bigmem.StrTest.test_zfill" },
      ],
      { width: 900, height: 260 },
    ).map((boundary) => boundary.label);
    assert.deepEqual(labels, ["test_bigmem", null, "test_center", null], "too close, and off the right edge");
  });

  it("marks the highest sample while the job runs, and nothing without samples", () => {
    const running = chartGeometry(chartData(job({ status: "running", peakRssBytes: null }), samples, []));
    assert.equal(running?.peak?.label, "highest sample 500.0 MiB");
    assert.equal(chartGeometry(chartData(job(), [], [])), null);
  });

  it("merges only levels that would overprint", () => {
    const merged = mergeCloseLevels([
      { kind: "memlimit", label: "a", bytes: 1, y: 100 },
      { kind: "reservation", label: "b", bytes: 1, y: 105 },
      { kind: "limit", label: "c", bytes: 1, y: 200 },
    ]);
    assert.deepEqual(
      merged.map((level) => level.label),
      ["a · b", "c"],
    );
  });

  it("marks each test case with a start time on the strip under the plot, named, over its duration", () => {
    const caseOf = (name: string, offsetMs: number, seconds: number | null): TestResource => ({
      ...test(name, offsetMs),
      kind: "case",
      durationSeconds: seconds,
    });
    const data = chartData(job(), samples, [
      test("test_a", 0),
      caseOf("test_a.T.test_one", 0, 1),
      caseOf("test_a.T.test_two", 1000, 2),
      { ...caseOf("test_a.T.test_parallel", 0, 1), startedAt: null },
    ]);
    assert.deepEqual(
      data.cases.map((span) => span.name),
      ["test_a.T.test_one", "test_a.T.test_two"],
      "a case without a start time (a -j run) has no place on the time axis",
    );
    const geometry = chartGeometry(data);
    assert.deepEqual(
      geometry?.caseMarks.map((mark) => [mark.name, mark.x, mark.width]),
      [
        ["test_a.T.test_one", 0, 225],
        ["test_a.T.test_two", 225, 450],
      ],
    );
    assert.deepEqual(
      geometry?.boundaries.map((boundary) => boundary.name),
      ["test_a"],
      "files stay the labelled level",
    );
  });

  it("lays out the peak's and the limits' labels apart when the peak is at or near the limit", () => {
    const GiB = 1024 * MiB;
    for (const peakBytes of [GiB, GiB + 8 * MiB, GiB + 30 * MiB, GiB - 20 * MiB, 1.2 * GiB]) {
      for (const peakOffset of [0, 2000, 4000]) {
        const oom = job({
          status: "oom",
          memlimitBytes: GiB,
          reservationBytes: GiB,
          limitBytes: GiB,
          peakRssBytes: peakBytes,
        });
        const points: Sample[] = samples.map((sample) => ({
          ...sample,
          rssBytes: sample.at === START + peakOffset ? peakBytes : sample.rssBytes,
        }));
        const geometry = chartGeometry(chartData(oom, points, [test("test_bigmem", 0)]));
        assert.ok(geometry?.peak);
        const { peak } = geometry;
        const peakBox = boxOf(peak.labelX, peak.labelY, peak.label.length, peak.anchor, true);
        for (const level of geometry.levels) {
          const levelBox = boxOf(geometry.width - 4, level.labelY, level.label.length, "end");
          assert.ok(
            !overlaps(peakBox, levelBox),
            `${peak.label} at ${peakOffset} ms overprints ${level.label}: ${JSON.stringify([peakBox, levelBox])}`,
          );
        }
        assert.ok(peakBox.y1 >= 0 && peakBox.y2 <= geometry.height, "inside the plot");
      }
    }
  });
});
