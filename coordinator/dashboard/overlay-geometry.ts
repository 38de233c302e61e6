import { byteTicks, type Tick, timeTicks } from "./chart-axes.ts";
import { splitAtGaps } from "./chart-geometry.ts";
import type { SampleBucket } from "./downsample.ts";

export const OVERLAY_WIDTH = 900;
export const OVERLAY_HEIGHT = 220;
const AXIS = 16;

/** One job's line on the compare page's chart. */
export interface OverlayLine {
  jobId: number;
  /** SVG path of the highest sample in each slice of time, in time since the job's first sample. */
  path: string;
  peakRssBytes: number | null;
}

export interface OverlayGeometry {
  width: number;
  height: number;
  base: OverlayLine;
  head: OverlayLine;
  byteTicks: Tick[];
  timeTicks: Tick[];
}

/**
 * The memory of two jobs over time on one chart, each from its own start, so a pull request's run
 * lies over its base run's and a test that grew reads as one line above the other. The highest
 * sample of each slice keeps the spikes; the scale covers both jobs' kernel peaks. Null when
 * neither job has samples.
 */
export function overlayGeometry(
  base: { jobId: number; buckets: readonly SampleBucket[]; peakRssBytes: number | null },
  head: { jobId: number; buckets: readonly SampleBucket[]; peakRssBytes: number | null },
): OverlayGeometry | null {
  const spanOf = (buckets: readonly SampleBucket[]) =>
    buckets.length === 0 ? 0 : (buckets.at(-1) as SampleBucket).toMs - (buckets[0] as SampleBucket).fromMs;
  if (base.buckets.length === 0 && head.buckets.length === 0) return null;
  const spanMs = Math.max(spanOf(base.buckets), spanOf(head.buckets), 1000);
  const highest = Math.max(
    1,
    base.peakRssBytes ?? 0,
    head.peakRssBytes ?? 0,
    ...base.buckets.map((bucket) => bucket.maxRssBytes),
    ...head.buckets.map((bucket) => bucket.maxRssBytes),
  );
  const scaleBytes = highest * 1.1;
  const plotHeight = OVERLAY_HEIGHT - AXIS;
  const xOf = (elapsedMs: number) => round((elapsedMs / spanMs) * OVERLAY_WIDTH);
  const yOf = (bytes: number) => round(plotHeight - (bytes / scaleBytes) * plotHeight);
  const line = (job: typeof base): OverlayLine => {
    const start = job.buckets[0]?.fromMs ?? 0;
    // An outage (no samples for a while) is a gap in the line, as on the job page.
    const path = splitAtGaps(job.buckets)
      .map((run) =>
        run
          .map((bucket, index) => {
            const x = xOf((bucket.fromMs + bucket.toMs) / 2 - start);
            return `${index === 0 ? "M" : "L"}${x},${yOf(bucket.maxRssBytes)}`;
          })
          .join(" "),
      )
      .join(" ");
    return { jobId: job.jobId, path, peakRssBytes: job.peakRssBytes };
  };
  return {
    width: OVERLAY_WIDTH,
    height: OVERLAY_HEIGHT,
    base: line(base),
    head: line(head),
    byteTicks: byteTicks(scaleBytes, yOf),
    timeTicks: timeTicks(spanMs, xOf),
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
