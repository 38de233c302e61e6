import type { SampleResource } from "../../protocol/resources.ts";
import { formatBytes } from "../../protocol/sizes.ts";

/** Formatting helpers the templates use; views get plain data and these. */
export const fmt = {
  bytes: formatBytes,
  duration(seconds: number | null | undefined): string {
    if (seconds === null || seconds === undefined) return "-";
    if (seconds < 60) return `${seconds.toFixed(1)} s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
    return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  },
  time(iso: string | null | undefined): string {
    return iso ? iso.replace("T", " ").replace(/\.\d+Z$/, " UTC") : "-";
  },
};

/** JSON for a `<script type="application/json">` block: `<`, `>` and `&` escaped so no tag can close it. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
}

export interface MemoryChart {
  width: number;
  height: number;
  points: string;
  peakBytes: number;
  maxBytes: number;
  limitY: number | null;
}

/**
 * An SVG polyline of memory over time. Samples are grouped into at most
 * `width` buckets and each bucket keeps its maximum, so a spike survives.
 */
export function memoryChart(
  samples: SampleResource[],
  peakBytes: number | null,
  limitBytes: number | null,
): MemoryChart | null {
  if (samples.length === 0) return null;
  const width = 900;
  const height = 220;
  const start = Date.parse(samples[0]?.at ?? "");
  const end = Math.max(start + 1, Date.parse(samples.at(-1)?.at ?? ""));
  const buckets = new Map<number, number>();
  for (const sample of samples) {
    const x = Math.round(((Date.parse(sample.at) - start) / (end - start)) * (width - 1));
    buckets.set(x, Math.max(buckets.get(x) ?? 0, sample.rssBytes));
  }
  const peak = Math.max(peakBytes ?? 0, ...buckets.values());
  const maxBytes = Math.max(peak, limitBytes ?? 0) * 1.05 || 1;
  const y = (bytes: number) => Math.round((height - (bytes / maxBytes) * height) * 10) / 10;
  const points = [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([x, bytes]) => `${x},${y(bytes)}`)
    .join(" ");
  return { width, height, points, peakBytes: peak, maxBytes, limitY: limitBytes ? y(limitBytes) : null };
}
