import type { WatchRunResource } from "../../protocol/resources.ts";

export const TREND_WIDTH = 720;
export const TREND_HEIGHT = 160;
const PAD = 8;

export interface TrendPoint {
  x: number;
  y: number;
  jobId: number;
  commit: string | null;
  peakRssBytes: number;
  outcome: string | null;
}

/**
 * A test's peak memory over a watch's runs as an SVG step line, oldest run on the left: a run's
 * value holds until the next run, so a regression reads as a step up at the commit that made it.
 * Runs without a peak are left out. The y axis spans the values seen (from zero when they are
 * close), so a 5 % step is visible and a flat line stays flat.
 */
export function trendGeometry(runsNewestFirst: WatchRunResource[]): {
  points: TrendPoint[];
  path: string;
  minBytes: number;
  maxBytes: number;
} {
  const runs = runsNewestFirst.filter((run) => run.peakRssBytes !== null).reverse();
  if (runs.length === 0) return { points: [], path: "", minBytes: 0, maxBytes: 0 };
  const values = runs.map((run) => run.peakRssBytes as number);
  const most = Math.max(...values);
  const least = Math.min(...values);
  // A flat series gets some room above and below; otherwise the span of the values, padded by 10 %.
  const span = most - least || Math.max(most * 0.1, 1);
  const low = Math.max(0, least - span * 0.1);
  const high = most + span * 0.1;
  const xOf = (index: number) =>
    runs.length === 1 ? TREND_WIDTH / 2 : PAD + (index * (TREND_WIDTH - 2 * PAD)) / (runs.length - 1);
  const yOf = (bytes: number) =>
    TREND_HEIGHT - PAD - ((bytes - low) / (high - low)) * (TREND_HEIGHT - 2 * PAD);
  const points = runs.map((run, index) => ({
    x: Math.round(xOf(index) * 10) / 10,
    y: Math.round(yOf(run.peakRssBytes as number) * 10) / 10,
    jobId: run.jobId,
    commit: run.commit,
    peakRssBytes: run.peakRssBytes as number,
    outcome: run.outcome,
  }));
  const path = points
    .map((point, index) => (index === 0 ? `M${point.x},${point.y}` : `H${point.x} V${point.y}`))
    .join(" ");
  return { points, path, minBytes: least, maxBytes: most };
}
