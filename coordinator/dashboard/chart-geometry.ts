import { formatBytes } from "../../protocol/sizes.ts";
import { byteTicks, type Tick, timeTicks } from "./chart-axes.ts";
import type { ChartData } from "./chart-data.ts";
import { labelBoundaries, placeLevelLabels, placePeakLabel } from "./chart-labels.ts";

/** A horizontal line across the chart: one of the job's limits. */
export interface ChartLevel {
  kind: "memlimit" | "reservation" | "limit";
  label: string;
  bytes: number;
  y: number;
  /** The label's baseline: over its line at the right edge, lower where another label is in the way. */
  labelY: number;
}

/**
 * The SVG shapes of a memory chart, in a fixed viewBox. The template draws
 * these; views/static/job-chart.js computes the same shapes in the browser
 * when it redraws live (keep the two in step).
 */
export interface ChartGeometry {
  width: number;
  height: number;
  /**
   * The runs of samples without a gap: for each, a polygon between each bucket's minimum and
   * maximum memory (`band`), the maxima joined (`line`), and CPU per bucket (its maximum) on its
   * own scale, 0 to max(100 %, the highest value) (`cpu`).
   */
  segments: { band: string; line: string; cpu: string }[];
  /** Where no samples came for a while (an agent lost, a job handed to another host): drawn as gaps. */
  gaps: { x1: number; x2: number; seconds: number }[];
  cpuScalePercent: number;
  levels: ChartLevel[];
  /**
   * Where each test started, and the short name (`test_capitalize`) it is labelled with where
   * there is room for it beside the previous label (null: the name is on hover only).
   */
  boundaries: { x: number; name: string; label: string | null }[];
  /** Test cases as marks on a strip at the foot of the plot, named on hover (there can be hundreds). */
  caseMarks: { x: number; width: number; name: string; outcome: string }[];
  /**
   * A dot where the highest sample was, at the height of the peak, with a line across at that
   * height; its label where it overlaps no limit's label.
   */
  peak: {
    x: number;
    y: number;
    label: string;
    labelX: number;
    labelY: number;
    anchor: "start" | "end";
  } | null;
  scaleBytes: number;
  durationSeconds: number;
  /** Memory ticks (y) and time ticks (x, since the first sample); the time axis is below the plot. */
  yTicks: Tick[];
  xTicks: Tick[];
  /** The viewBox's height: the plot and the time axis under it. */
  viewHeight: number;
}

export const CHART_WIDTH = 900;
export const CHART_HEIGHT = 260;
/** Room above the highest line for its label. */
const TOP = 16;
/** Room under the plot for the time axis's labels. */
export const AXIS_HEIGHT = 16;
/** The strip at the foot of the plot where test cases are marked. */
export const CASE_STRIP = 5;

const round = (value: number) => Math.round(value * 10) / 10;

/** A pause in sampling longer than this (and than 5 buckets) is a gap, not a line across it. */
export const GAP_MS = 10_000;

/** Consecutive buckets split where samples stopped for longer than a gap. */
export function splitAtGaps<B extends { fromMs: number; toMs: number }>(buckets: readonly B[]): B[][] {
  const runs: B[][] = [];
  for (const bucket of buckets) {
    const run = runs.at(-1);
    const previous = run?.at(-1);
    const gapMs = Math.max(GAP_MS, 5 * (bucket.toMs - bucket.fromMs));
    if (run && previous && bucket.fromMs - previous.toMs <= gapMs) run.push(bucket);
    else runs.push([bucket]);
  }
  return runs;
}

export function chartGeometry(data: ChartData): ChartGeometry | null {
  const first = data.buckets[0];
  const last = data.buckets.at(-1);
  if (!first || !last) return null;
  const startMs = first.fromMs;
  const spanMs = Math.max(1, last.toMs - startMs);
  const { memlimitBytes, reservationBytes, limitBytes } = data.limits;
  const sampledMax = data.sampledPeak?.rssBytes ?? 0;
  const peakBytes = Math.max(data.peakRssBytes ?? 0, sampledMax);
  const scaleBytes = Math.max(peakBytes, memlimitBytes ?? 0, reservationBytes, limitBytes ?? 0) * 1.05 || 1;
  const cpuScalePercent = Math.max(100, ...data.buckets.map((bucket) => bucket.maxCpuPercent));
  const plotHeight = CHART_HEIGHT - TOP;
  const x = (ms: number) => round(((ms - startMs) / spanMs) * CHART_WIDTH);
  const middle = (bucket: { fromMs: number; toMs: number }) => x((bucket.fromMs + bucket.toMs) / 2);
  const yBytes = (bytes: number) => round(CHART_HEIGHT - (bytes / scaleBytes) * plotHeight);
  const yCpu = (percent: number) => round(CHART_HEIGHT - (percent / cpuScalePercent) * plotHeight);

  const runs = splitAtGaps(data.buckets);
  const segments = runs.map((run) => {
    const upper = run.map((bucket) => `${middle(bucket)},${yBytes(bucket.maxRssBytes)}`);
    const lower = run.map((bucket) => `${middle(bucket)},${yBytes(bucket.minRssBytes)}`).reverse();
    return {
      band: [...upper, ...lower].join(" "),
      line: upper.join(" "),
      cpu: run.map((bucket) => `${middle(bucket)},${yCpu(bucket.maxCpuPercent)}`).join(" "),
    };
  });
  const gaps = runs.slice(1).map((run, index) => {
    const before = runs[index]?.at(-1) as { toMs: number };
    const after = run[0] as { fromMs: number };
    return { x1: x(before.toMs), x2: x(after.fromMs), seconds: (after.fromMs - before.toMs) / 1000 };
  });
  const levels: Omit<ChartLevel, "labelY">[] = [];
  const addLevel = (kind: ChartLevel["kind"], name: string, bytes: number | null) => {
    if (bytes === null || bytes <= 0) return;
    levels.push({ kind, bytes, y: yBytes(bytes), label: `${name} ${formatBytes(bytes)}` });
  };
  addLevel("memlimit", "memlimit (-M)", memlimitBytes);
  addLevel("reservation", "reservation", reservationBytes);
  addLevel("limit", "enforced limit", limitBytes);
  const truePeak = data.peakRssBytes !== null;

  const size = { width: CHART_WIDTH, height: CHART_HEIGHT };
  const merged = mergeCloseLevels(levels);
  const levelLabels = placeLevelLabels(merged, CHART_WIDTH);
  const peakAt = data.sampledPeak?.atMs ?? null;
  const peakMark =
    peakAt === null
      ? null
      : {
          x: x(peakAt),
          y: yBytes(peakBytes),
          label: `${truePeak ? "peak" : "highest sample"} ${formatBytes(peakBytes)}`,
        };
  const taken = levelLabels.map((placed) => placed.box);
  const peak = peakMark ? placePeakLabel(peakMark, taken, size) : null;
  if (peak) taken.push(peak.box);
  const inRange = (test: { startMs: number }) => test.startMs >= startMs && test.startMs <= startMs + spanMs;
  return {
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    segments,
    gaps,
    cpuScalePercent,
    levels: merged.map((level, index) => ({ ...level, labelY: levelLabels[index]?.labelY ?? level.y })),
    boundaries: labelBoundaries(
      data.tests.filter(inRange).map((test) => ({ x: x(test.startMs), name: test.name })),
      size,
      taken,
    ),
    caseMarks: data.cases.filter(inRange).map((test) => {
      const from = x(test.startMs);
      const to = test.endMs === null ? from : x(Math.min(test.endMs, startMs + spanMs));
      return { x: from, width: Math.max(1, round(to - from)), name: test.name, outcome: test.outcome };
    }),
    peak:
      peakMark && peak
        ? { ...peakMark, labelX: peak.labelX, labelY: peak.labelY, anchor: peak.anchor }
        : null,
    scaleBytes,
    durationSeconds: spanMs / 1000,
    yTicks: byteTicks(scaleBytes, yBytes),
    xTicks: timeTicks(spanMs, (elapsedMs) => x(startMs + elapsedMs)),
    viewHeight: CHART_HEIGHT + AXIS_HEIGHT,
  };
}

/** Lines closer than this (in viewBox units) share one label, so labels never overprint. */
const LABEL_GAP = 12;

/** Levels at (nearly) the same height, such as memlimit and reservation of a -j1 suite, become one line. */
export function mergeCloseLevels<L extends { y: number; label: string }>(levels: readonly L[]): L[] {
  const merged: L[] = [];
  for (const level of [...levels].sort((a, b) => a.y - b.y)) {
    const previous = merged.at(-1);
    if (previous && Math.abs(previous.y - level.y) < LABEL_GAP) {
      previous.label = `${previous.label} · ${level.label}`;
      continue;
    }
    merged.push({ ...level });
  }
  return merged;
}
