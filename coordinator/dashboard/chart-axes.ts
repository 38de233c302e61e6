import { formatBytes } from "../../protocol/sizes.ts";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
/** Memory ticks fall on these steps (powers of two, as memory is sized), at most 5 below the top. */
const BYTE_STEPS = [16, 32, 64, 128, 256, 512]
  .map((n) => n * MiB)
  .concat([1, 2, 4, 8, 16, 32, 64, 128].map((n) => n * GiB));
/** Time ticks fall on these steps (seconds), at most 8 across the chart. */
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 21_600, 43_200];

export interface Tick {
  at: number;
  label: string;
}

/**
 * Where the memory axis has ticks, 0 excluded, up to `scaleBytes`; `position` maps bytes to y.
 * views/static/job-chart.js computes the same ticks (keep the two in step).
 */
export function byteTicks(scaleBytes: number, position: (bytes: number) => number): Tick[] {
  const step = BYTE_STEPS.find((candidate) => scaleBytes / candidate <= 5) ?? (BYTE_STEPS.at(-1) as number);
  const ticks: Tick[] = [];
  for (let bytes = step; bytes < scaleBytes; bytes += step)
    ticks.push({ at: position(bytes), label: tickBytes(bytes) });
  return ticks;
}

/** Where the time axis has ticks, as time since the first sample, 0 included. */
export function timeTicks(spanMs: number, position: (elapsedMs: number) => number): Tick[] {
  const seconds = spanMs / 1000;
  const step = TIME_STEPS.find((candidate) => seconds / candidate <= 8) ?? (TIME_STEPS.at(-1) as number);
  const ticks: Tick[] = [];
  for (let at = 0; at <= seconds; at += step) ticks.push({ at: position(at * 1000), label: elapsed(at) });
  return ticks;
}

/** 512 MiB, 2 GiB, 1.5 GiB: a tick's label, without the `.0` of formatBytes. */
function tickBytes(bytes: number): string {
  return formatBytes(bytes).replace(".0 ", " ");
}

/** 0 s, 30 s, 2 min, 1 min 30 s, 1 h, 1 h 30 min. */
export function elapsed(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600)
    return seconds % 60 === 0 ? `${seconds / 60} min` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  const minutes = Math.floor((seconds % 3600) / 60);
  return minutes === 0 ? `${Math.floor(seconds / 3600)} h` : `${Math.floor(seconds / 3600)} h ${minutes} min`;
}
