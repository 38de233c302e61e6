import type { Sample } from "../../protocol/messages.ts";

/** One time bucket of a job's samples: the lowest and highest of each series in it. */
export interface SampleBucket {
  fromMs: number;
  toMs: number;
  minRssBytes: number;
  maxRssBytes: number;
  minCpuPercent: number;
  maxCpuPercent: number;
}

export const MIN_BUCKETS = 1;
export const MAX_BUCKETS = 2000;

/**
 * Groups samples (ordered by time) into at most `buckets` equal slices of time
 * and keeps each slice's minimum and maximum, not its mean: a 100 ms spike in a
 * six-hour run stays in the chart at any width. Empty slices are left out, so
 * a gap in sampling shows as a gap, not as invented values.
 */
export function downsample(samples: readonly Sample[], buckets: number): SampleBucket[] {
  const first = samples[0];
  const last = samples.at(-1);
  if (!first || !last) return [];
  const count = Math.max(MIN_BUCKETS, Math.min(MAX_BUCKETS, Math.floor(buckets)));
  const span = Math.max(1, last.at - first.at);
  const width = span / count;
  const result: SampleBucket[] = [];
  let current: SampleBucket | null = null;
  let currentIndex = -1;
  for (const sample of samples) {
    // The last sample belongs to the last bucket, not to one past the end.
    const index = Math.min(count - 1, Math.floor((sample.at - first.at) / width));
    if (current === null || index !== currentIndex) {
      current = {
        fromMs: first.at + index * width,
        toMs: first.at + (index + 1) * width,
        minRssBytes: sample.rssBytes,
        maxRssBytes: sample.rssBytes,
        minCpuPercent: sample.cpuPercent,
        maxCpuPercent: sample.cpuPercent,
      };
      currentIndex = index;
      result.push(current);
      continue;
    }
    current.minRssBytes = Math.min(current.minRssBytes, sample.rssBytes);
    current.maxRssBytes = Math.max(current.maxRssBytes, sample.rssBytes);
    current.minCpuPercent = Math.min(current.minCpuPercent, sample.cpuPercent);
    current.maxCpuPercent = Math.max(current.maxCpuPercent, sample.cpuPercent);
  }
  return result;
}
